package ocicni

import (
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/types"
)

// The aliases below make this package a drop-in replacement for
// cri-o/ocicni's pkg/ocicni: the same names, the same fields.
type (
	// CNIPlugin is the interface a runtime programs against.
	CNIPlugin = types.CNIPlugin
	// PodNetwork describes one pod sandbox and its networks.
	PodNetwork = types.PodNetwork
	// NetAttachment names one network of a pod and its interface.
	NetAttachment = types.NetAttachment
	// NetResult is the outcome of one network attachment.
	NetResult = types.NetResult
	// RuntimeConfig is the runtime configuration of one attachment.
	RuntimeConfig = types.RuntimeConfig
	// PortMapping maps a host port to a container port.
	PortMapping = types.PortMapping
	// IpRange is one address range for the "ipRanges" capability.
	IpRange = types.IpRange //nolint:revive // name kept for cri-o compatibility.
	// BandwidthConfig is the "bandwidth" capability argument.
	BandwidthConfig = types.BandwidthConfig
	// DNSConfig is the "dns" capability argument.
	DNSConfig = types.DNSConfig
	// NetworkSet is the view of the loaded configuration Networks returns.
	NetworkSet = types.NetworkSet
	// NetworkInfo describes one loaded network.
	NetworkInfo = types.NetworkInfo
	// SkippedFile names a configuration file that was not loaded, and why.
	SkippedFile = types.SkippedFile
	// Readiness is what the background STATUS poll last learnt of the
	// default network.
	Readiness = types.Readiness
	// NetworkDeviceData is Kubernetes' record of a pod's network device
	// (KEP-4817), as NetResult.DeviceData returns it.
	NetworkDeviceData = types.NetworkDeviceData
)

const (
	// CodeNotAvailable is the STATUS code 50: the plugin cannot service ADD.
	CodeNotAvailable = types.CodeNotAvailable
	// CodeLimitedConnectivity is the STATUS code 51: as 50, and running
	// pods may have limited connectivity.
	CodeLimitedConnectivity = types.CodeLimitedConnectivity
	// MaxDeviceIPs is how many addresses a NetworkDeviceData holds at most.
	MaxDeviceIPs = types.MaxDeviceIPs
	// DefaultInterfaceName is the first interface name handed out.
	DefaultInterfaceName = types.DefaultInterfaceName
	// CNIPluginName is what CNIPlugin.Name returns.
	CNIPluginName = types.CNIPluginName
	// DefaultConfDir is the default configuration directory.
	DefaultConfDir = types.DefaultConfDir
	// DefaultBinDir is the default plugin directory.
	DefaultBinDir = types.DefaultBinDir
)

// InitCNI loads configuration from confDir (watching it and binDirs for
// changes) and returns a ready-to-use CNIPlugin. defaultNetName may be empty,
// in which case the first valid file in confDir is the default. It does not
// fail because confDir is empty or missing: Status reports that instead.
// Like cri-o/ocicni, it logs to logrus's standard logger, so a runtime that
// swaps the import keeps its CNI log lines; New logs only to WithLogger.
func InitCNI(defaultNetName, confDir string, binDirs ...string) (CNIPlugin, error) {
	return New(WithDefaultNetwork(defaultNetName), WithConfDir(confDir), WithBinDirs(binDirs...), WithLogger(logrus.StandardLogger()))
}

// InitCNIWithCache is InitCNI with libcni's result cache at cacheDir instead
// of DefaultCacheDir. It logs to logrus's standard logger, as InitCNI does.
func InitCNIWithCache(defaultNetName, confDir, cacheDir string, binDirs ...string) (CNIPlugin, error) {
	return New(WithDefaultNetwork(defaultNetName), WithConfDir(confDir), WithCacheDir(cacheDir), WithBinDirs(binDirs...), WithLogger(logrus.StandardLogger()))
}

// InitCNINoInotify is InitCNIWithCache without a directory watcher: each
// operation first reloads if the directories' listings or file stamps
// changed. It logs to logrus's standard logger, as InitCNI does.
func InitCNINoInotify(defaultNetName, confDir, cacheDir string, binDirs ...string) (CNIPlugin, error) {
	return New(WithDefaultNetwork(defaultNetName), WithConfDir(confDir), WithCacheDir(cacheDir), WithBinDirs(binDirs...), WithWatch(false), WithLogger(logrus.StandardLogger()))
}
