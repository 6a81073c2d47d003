// Package types holds the public data types and the CNIPlugin interface of
// github.com/netplumb/ocicni. Package ocicni re-exports every name here
// through type aliases, so callers normally import only ocicni. It is plain
// data and contracts: it imports nothing of this module and knows nothing
// of files, plugins, processes or locks.
package types

import (
	cnitypes "github.com/containernetworking/cni/pkg/types"
)

const (
	// DefaultInterfaceName is the name given to the first interface of a pod
	// when the caller does not choose one. Later interfaces are eth1, eth2, ...
	DefaultInterfaceName = "eth0"

	// CNIPluginName is the value returned by CNIPlugin.Name.
	CNIPluginName = "cni"

	// DefaultConfDir is the directory searched for network configuration
	// files when the caller names none.
	DefaultConfDir = "/etc/cni/net.d"

	// DefaultBinDir is the directory searched for plugin binaries when the
	// caller names none.
	DefaultBinDir = "/opt/cni/bin"
)

// PodNetwork describes one pod sandbox and the networks it is attached to.
// The library never modifies a PodNetwork passed to it.
type PodNetwork struct {
	// Name is the pod's name. With Kubernetes arguments enabled it is sent
	// to plugins as K8S_POD_NAME.
	Name string
	// Namespace is the pod's namespace (K8S_POD_NAMESPACE).
	Namespace string
	// ID is the sandbox ID. It is the CNI container ID, keys libcni's result
	// cache, and must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$.
	ID string
	// UID is the pod's UID (K8S_POD_UID).
	UID string
	// NetNS is the path of the pod's network namespace, for example
	// /var/run/netns/<name>. It is required for setup; teardown tolerates an
	// empty or already deleted path.
	NetNS string

	// Networks lists the networks to attach, in order. When empty, the
	// default network is used on setup, and on teardown and status the
	// networks recorded in the result cache for this sandbox are used.
	Networks []NetAttachment

	// RuntimeConfig holds per-network runtime arguments, keyed by network
	// name.
	RuntimeConfig map[string]RuntimeConfig

	// Aliases maps a network name to DNS aliases of the pod on that
	// network. The whole map is sent as the "aliases" capability to every
	// network whose plugins declare it, as cri-o/ocicni does;
	// RuntimeConfig.Aliases overrides it for a single network.
	Aliases map[string][]string
}

// NetAttachment names one network of a pod and the interface it gets.
type NetAttachment struct {
	// Name is the network name (the "name" field of its configuration).
	Name string
	// Ifname is the interface name inside the pod. When empty the library
	// picks the lowest free ethN name.
	Ifname string
}

// NetResult is the outcome of one network attachment.
type NetResult struct {
	// Result is the CNI result reported by the plugin chain, or, for
	// status, rebuilt from the cache or from the pod's netns.
	Result cnitypes.Result
	NetAttachment
}

// RuntimeConfig is the runtime configuration of one network attachment.
// Every field is optional; a field is sent to plugins only when set, and
// capability arguments reach only the plugins that declare the capability.
type RuntimeConfig struct {
	// IP is a static address for the interface, sent as CNI_ARGS IP=.
	IP string
	// MAC is a static hardware address, sent both as CNI_ARGS MAC= and as
	// the "mac" capability.
	MAC string
	// PortMappings is sent as the "portMappings" capability.
	PortMappings []PortMapping
	// Bandwidth is sent as the "bandwidth" capability.
	Bandwidth *BandwidthConfig
	// IpRanges is sent as the "ipRanges" capability.
	IpRanges [][]IpRange //nolint:revive // name kept for cri-o compatibility.
	// CgroupPath is sent as the "cgroupPath" capability.
	CgroupPath string
	// PodAnnotations is sent as the "io.kubernetes.cri.pod-annotations"
	// capability.
	PodAnnotations *map[string]string

	// IPs are static addresses in CIDR form (for example 10.1.2.3/24),
	// sent as the "ips" capability.
	IPs []string
	// DNS is sent as the "dns" capability.
	DNS *DNSConfig
	// DeviceID is sent as the "deviceID" capability (for example a PCI
	// address for SR-IOV).
	DeviceID string
	// InfinibandGUID is sent as the "infinibandGUID" capability.
	InfinibandGUID string
	// Aliases are DNS aliases of the pod on this network. When set they
	// replace PodNetwork.Aliases for this network in the "aliases"
	// capability.
	Aliases []string
}

// PortMapping maps a host port to a container port.
type PortMapping struct {
	// HostPort is the port on the host, 1..65535.
	HostPort int32 `json:"hostPort"`
	// ContainerPort is the port inside the pod, 1..65535.
	ContainerPort int32 `json:"containerPort"`
	// Protocol is "tcp", "udp" or "sctp"; empty means tcp.
	Protocol string `json:"protocol"`
	// HostIP restricts the mapping to one host address.
	HostIP string `json:"hostIP,omitempty"`
}

// IpRange is one address range for IPAM plugins that read the "ipRanges"
// capability.
type IpRange struct { //nolint:revive // name kept for cri-o compatibility.
	// Subnet is the range's network in CIDR form; it is required.
	Subnet string `json:"subnet"`
	// RangeStart is the first address IPAM may hand out, if not the
	// subnet's first.
	RangeStart string `json:"rangeStart,omitempty"`
	// RangeEnd is the last address IPAM may hand out, if not the subnet's
	// last.
	RangeEnd string `json:"rangeEnd,omitempty"`
	// Gateway is the gateway address, if not the subnet's first.
	Gateway string `json:"gateway,omitempty"`
}

// BandwidthConfig holds rates in bits per second and bursts in bits, as the
// bandwidth plugin expects them.
type BandwidthConfig struct {
	// IngressRate limits traffic into the pod, in bits per second.
	IngressRate uint64 `json:"ingressRate"`
	// IngressBurst is the burst allowed above IngressRate, in bits.
	IngressBurst uint64 `json:"ingressBurst"`
	// EgressRate limits traffic out of the pod, in bits per second.
	EgressRate uint64 `json:"egressRate"`
	// EgressBurst is the burst allowed above EgressRate, in bits.
	EgressBurst uint64 `json:"egressBurst"`
}

// DNSConfig is the "dns" capability argument.
type DNSConfig struct {
	// Servers are the name server addresses, in order of preference.
	Servers []string `json:"servers,omitempty"`
	// Searches are the search domains, in order.
	Searches []string `json:"searches,omitempty"`
	// Options are resolver options, such as "ndots:5".
	Options []string `json:"options,omitempty"`
}
