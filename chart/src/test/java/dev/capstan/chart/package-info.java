/** Tests of the Helm chart charts/capstan: lint, render, strict parsing, schemas, a k3s install. */
package dev.capstan.chart;
