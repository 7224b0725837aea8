package dev.capstan.benchmarks.plots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.benchmarks.plots.Results.Figure;
import dev.capstan.benchmarks.plots.Results.Ratio;
import dev.capstan.benchmarks.plots.Results.Section;
import dev.capstan.benchmarks.plots.Results.Value;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class BarChartTest {

  /** Parses an SVG with the JDK's XML parser (well-formedness is checked; no DTD, no network). */
  static Document xml(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  static List<Element> elements(Document doc, String tag, String cls) {
    NodeList nodes = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", tag);
    List<Element> out = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      Element e = (Element) nodes.item(i);
      if (e.getAttribute("class").equals(cls)) {
        out.add(e);
      }
    }
    return out;
  }

  private static Value value(String label, String number, boolean subject) {
    return new Value(label, Decimal.parse(number).orElseThrow(), Optional.empty(), subject);
  }

  private static Section section(Figure... figures) {
    return new Section("Test <section> & co", "test", Map.of("date", "today", "reproduce", "`run.sh --x \"y\"`"),
        List.of(figures), List.of());
  }

  @Test
  void everySectionOfTheRealFileIsWellFormedSvgWithOneBarPerValue() throws Exception {
    Results results = ResultsParser.parse(Files.readString(ResultsParserTest.RESULTS, StandardCharsets.UTF_8));
    for (Section s : results.sections()) {
      Document doc = xml(BarChart.render(s));
      assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
      List<Element> bars = elements(doc, "rect", "bar");
      assertThat(bars).as(s.title()).hasSize(s.valueCount());
      assertThat(elements(doc, "text", "ratio")).as(s.title()).hasSize(s.ratioCount());
      List<String> expected = s.figures().stream()
          .flatMap(f -> f.values().stream().map(v -> f.name() + " | " + v.label() + " | " + v.median().text())).toList();
      assertThat(bars).extracting(b -> b.getAttribute("data-figure") + " | " + b.getAttribute("data-label") + " | "
          + b.getAttribute("data-value")).containsExactlyElementsOf(expected);
    }
  }

  @Test
  void barsScaleToTheLargestComparedValueAndALargerOneIsCut() throws Exception {
    Figure f = new Figure("req/s", List.of(value("direct", "800", false), value("HAProxy", "200", false),
        value("Capstan", "100", true), value("idle", "0", false)),
        List.of(new Ratio("Capstan", "HAProxy", Decimal.parse("0.50").orElseThrow())));
    Document doc = xml(BarChart.render(section(f)));
    List<Element> bars = elements(doc, "rect", "bar");
    double direct = Double.parseDouble(bars.get(0).getAttribute("width"));
    double haproxy = Double.parseDouble(bars.get(1).getAttribute("width"));
    double capstan = Double.parseDouble(bars.get(2).getAttribute("width"));
    assertThat(haproxy).isPositive();
    assertThat(capstan).isEqualTo(haproxy / 2);
    assertThat(direct).isEqualTo(haproxy);
    assertThat(Double.parseDouble(bars.get(3).getAttribute("width"))).isZero();
    assertThat(elements(doc, "path", "cut")).hasSize(1);
    assertThat(elements(doc, "text", "number")).extracting(Element::getTextContent)
        .containsExactly("800, bar cut (off scale)", "200", "100", "0");
    assertThat(bars.get(2).getAttribute("fill")).isEqualTo(BarChart.SUBJECT_COLOUR);
    assertThat(bars.get(1).getAttribute("fill")).isEqualTo(BarChart.PEER_COLOUR);
  }

  @Test
  void ratiosAreWrittenOnTheRowTheyConcern() throws Exception {
    Figure peers = new Figure("req/s", List.of(value("HAProxy", "200", false), value("nginx", "100", false),
        value("Capstan", "100", true)),
        List.of(new Ratio("Capstan", "HAProxy", Decimal.parse("0.50").orElseThrow()),
            new Ratio("Capstan", "nginx", Decimal.parse("1.00").orElseThrow())));
    Figure baseline = new Figure("p99 ms", List.of(value("quiet alone", "10", false), value("flooding", "15", true)),
        List.of(new Ratio("flooding", "quiet alone", Decimal.parse("1.50").orElseThrow())));
    Document doc = xml(BarChart.render(section(peers, baseline)));
    List<Element> labels = elements(doc, "text", "label");
    List<Element> ratios = elements(doc, "text", "ratio");
    assertThat(ratios).extracting(Element::getTextContent)
        .containsExactly("Capstan/HAProxy 0.50x", "Capstan/nginx 1.00x", "1.50x vs quiet alone");
    // Same baseline y as the label of the row it is written on.
    assertThat(ratios.get(0).getAttribute("y")).isEqualTo(labels.get(0).getAttribute("y"));
    assertThat(ratios.get(1).getAttribute("y")).isEqualTo(labels.get(1).getAttribute("y"));
    assertThat(ratios.get(2).getAttribute("y")).isEqualTo(labels.get(4).getAttribute("y"));
  }

  @Test
  void textIsEscaped() throws Exception {
    Figure f = new Figure("a < b & \"c\" > 'd'", List.of(value("<Capstan>", "1", true)), List.of());
    Document doc = xml(BarChart.render(section(f)));
    assertThat(elements(doc, "text", "figure")).singleElement().extracting(Element::getTextContent)
        .isEqualTo("a < b & \"c\" > 'd'");
    assertThat(elements(doc, "text", "title")).singleElement().extracting(Element::getTextContent)
        .isEqualTo("Capstan benchmarks: Test <section> & co");
    assertThat(elements(doc, "text", "meta")).extracting(Element::getTextContent)
        .containsExactly("date: today", "reproduce: run.sh --x \"y\"");
    assertThat(elements(doc, "rect", "bar")).singleElement().extracting(e -> e.getAttribute("data-label"))
        .isEqualTo("<Capstan>");
  }

  @Test
  void aSectionWithNotesSaysSoUnderItsBars() throws Exception {
    Section s = new Section("Notes", "notes", Map.of(), List.of(new Figure("x", List.of(value("Capstan", "1", true)), List.of())),
        List.of("one thing left out", "another"));
    assertThat(elements(xml(BarChart.render(s)), "text", "meta")).extracting(Element::getTextContent)
        .anyMatch(t -> t.startsWith("2 item(s) of this section not drawn or flagged"));
  }
}
