package dev.capstan.netlab;

/**
 * One node of the test network: a network namespace with the wire to the other node.
 *
 * @param index 1 or 2
 * @param name the node's name in manifests and agent configs ({@code node1}, {@code node2})
 * @param netns its network namespace
 * @param wireInterface its end of the veth between the nodes
 * @param wireIp its address on the wire (10.0.0.1, 10.0.0.2)
 * @param podCidr the pod addresses routed to it (10.1.1.0/24, 10.1.2.0/24)
 */
public record Node(int index, String name, String netns, String wireInterface, String wireIp, String podCidr) {
  /** The gateway address every pod routes through; a local address of each node, answered by ARP. */
  public static final String POD_GATEWAY = "169.254.1.1";

  /** The {@code n}-th address of this node's pod CIDR (10.1.{index}.{n}). */
  public String podIp(int n) {
    return "10.1." + index + "." + n;
  }
}
