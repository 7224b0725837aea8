{{/* Common labels of every object of the chart. */}}
{{- define "capstan.labels" -}}
app.kubernetes.io/part-of: capstan
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* An image reference: (dict "root" $ "name" "controller"). */}}
{{- define "capstan.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .name $tag -}}
{{- end -}}

{{/* The controller's in-cluster DNS name. */}}
{{- define "capstan.controllerHost" -}}
capstan-controller.{{ .Release.Namespace }}.svc
{{- end -}}

{{/* Hazelcast members the clients (node agents, redirect, waypoints) connect to. */}}
{{- define "capstan.members" -}}
{{ include "capstan.controllerHost" . }}:5701
{{- end -}}

{{/* The controller's SPIFFE ID, which its CA serving certificate carries. */}}
{{- define "capstan.controllerIdentity" -}}
spiffe://{{ .Values.trustDomain }}/ns/{{ .Release.Namespace }}/sa/capstan-controller
{{- end -}}

{{/* prometheus.io scrape annotations for a pod template. */}}
{{- define "capstan.scrapeAnnotations" -}}
{{- if .Values.metrics.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: "15020"
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/*
The init container that writes the pod's config: the config files have no variables, so the
node's name and the pod's IP are put in with sed (the images are Jib images on a JRE base with a
shell). (dict "root" $ "image" <image> "files" (list "agent.yaml" ...)).
*/}}
{{- define "capstan.renderConfig" -}}
- name: render-config
  image: {{ .image }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - >-
      for f in {{ join " " .files }}; do
      sed -e "s|@NODE_NAME@|${NODE_NAME}|g" -e "s|@POD_IP@|${POD_IP}|g" /etc/capstan/template/$f > /etc/capstan/config/$f || exit 1;
      done
  env:
    - name: NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: ["ALL"]
  resources:
    requests: {cpu: 10m, memory: 16Mi}
    limits: {memory: 64Mi}
  volumeMounts:
    - name: config-template
      mountPath: /etc/capstan/template
      readOnly: true
    - name: config
      mountPath: /etc/capstan/config
{{- end -}}

{{/* Whole seconds of a duration value such as 30s, 2m or 500ms (rounded up), for grace periods. */}}
{{- define "capstan.seconds" -}}
{{- $d := toString . -}}
{{- if hasSuffix "ms" $d -}}{{ div (add (trimSuffix "ms" $d | int) 999) 1000 }}
{{- else if hasSuffix "s" $d -}}{{ trimSuffix "s" $d | int }}
{{- else if hasSuffix "m" $d -}}{{ mul (trimSuffix "m" $d | int) 60 }}
{{- else if hasSuffix "h" $d -}}{{ mul (trimSuffix "h" $d | int) 3600 }}
{{- else -}}{{ fail (printf "nodeAgent.drainTimeout must be <n>ms, <n>s, <n>m or <n>h, got %q" $d) }}
{{- end -}}
{{- end -}}
