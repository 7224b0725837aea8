package dev.capstan.nodeagent.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InternerTest {

  @Test
  void sharing_endpoint_uids_keeps_everything_else_of_the_service_including_its_waypoint() {
    // an equal uid string that is not the workload's own instance: the service is rebuilt
    String uid = new String("pod-r1");
    Workload w = new Workload("pod-r1", "reviews-1", "shop", "reviews", List.of("10.1.2.4"), "node-b", Map.of(), null);
    Service s = new Service("shop", "reviews", List.of("10.96.0.10"), List.of(new ServicePort("http", 9080, 8080)),
        List.of(new Endpoint(uid, true)), "shop/waypoint");

    Service shared = Interner.endpointUids(s, Map.of("pod-r1", w));

    assertThat(shared.endpoints().get(0).workloadUid()).isSameAs(w.uid());
    assertThat(shared).isEqualTo(s); // a service fed through the controller still goes through its waypoint
    assertThat(shared.waypoint()).isEqualTo("shop/waypoint");
  }
}
