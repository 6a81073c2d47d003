package netselect

import (
	"errors"
	"net"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

var defaultAttachment = Attachment{Entry: -1, Default: true, Network: "podnet", Ref: "podnet", Ifname: "eth0"}

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		annotation string
		namespace  string
		want       []Attachment // after the default network's
	}{
		{name: "empty", annotation: ""},
		{name: "blank", annotation: " \t "},
		{name: "empty JSON list", annotation: "[]"},
		{name: "one name", annotation: "datanet",
			want: []Attachment{{Entry: 0, Network: "datanet", Ref: "datanet", Ifname: "net1"}}},
		{name: "pod namespace qualifies the status name", annotation: "datanet", namespace: "web",
			want: []Attachment{{Entry: 0, Network: "datanet", Ref: "web/datanet", Ifname: "net1"}}},
		{name: "pod namespace picks its own variant", annotation: "storage", namespace: "tenant-a",
			want: []Attachment{{Entry: 0, Network: "tenant-a.storage", Ref: "tenant-a/storage", Ifname: "net1"}}},
		{name: "entry namespace without a variant falls back to the name", annotation: "tenant-b/storage@st0, datanet",
			want: []Attachment{
				{Entry: 0, Network: "storage", Ref: "tenant-b/storage", Ifname: "st0"},
				{Entry: 1, Network: "datanet", Ref: "datanet", Ifname: "net2"},
			}},
		{name: "comma form trims around every part", annotation: " tenant-a / storage @ st0 ,datanet",
			want: []Attachment{
				{Entry: 0, Network: "tenant-a.storage", Ref: "tenant-a/storage", Ifname: "st0"},
				{Entry: 1, Network: "datanet", Ref: "datanet", Ifname: "net2"},
			}},
		{name: "unnamed entries are numbered by position", annotation: `[{"name":"datanet","interface":"foo"},{"name":"storage"}]`,
			want: []Attachment{
				{Entry: 0, Network: "datanet", Ref: "datanet", Ifname: "foo"},
				{Entry: 1, Network: "storage", Ref: "storage", Ifname: "net2"},
			}},
		{name: "a network twice without settings", annotation: "datanet,datanet,podnet",
			want: []Attachment{
				{Entry: 0, Network: "datanet", Ref: "datanet", Ifname: "net1"},
				{Entry: 1, Network: "datanet", Ref: "datanet", Ifname: "net2"},
				{Entry: 2, Network: "podnet", Ref: "podnet", Ifname: "net3"},
			}},
		{name: "JSON null and empty cni-args are no args", annotation: `[{"name":"datanet","cni-args":null},{"name":"storage","cni-args":{}}]`,
			want: []Attachment{
				{Entry: 0, Network: "datanet", Ref: "datanet", Ifname: "net1"},
				{Entry: 1, Network: "storage", Ref: "storage", Ifname: "net2"},
			}},
		{name: "every field", namespace: "tenant-a", annotation: `[{
			"name": "macnet", "namespace": "infra", "interface": "fast0",
			"ips": ["10.1.2.3/24", "fd00::3/64"], "mac": "02:AA:bb:cc:dd:ee",
			"infiniband-guid": "00:11:22:33:44:55:66:77", "deviceID": "0000:03:00.1",
			"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "TCP", "hostIP": "192.0.2.1"}, {"hostPort": 53, "containerPort": 53, "protocol": "udp"}],
			"bandwidth": {"ingressRate": 1000000, "ingressBurst": 2000000, "egressRate": 3000000, "egressBurst": 4000000},
			"cni-args": null,
			"default-route": ["10.1.2.1", "fd00::1"]}, {"name": "storage"}]`,
			want: []Attachment{{
				Entry: 0, Network: "macnet", Ref: "infra/macnet", Ifname: "fast0",
				RuntimeConfig: ocicni.RuntimeConfig{
					IPs: []string{"10.1.2.3/24", "fd00::3/64"}, MAC: "02:aa:bb:cc:dd:ee",
					InfinibandGUID: "00:11:22:33:44:55:66:77", DeviceID: "0000:03:00.1",
					PortMappings: []ocicni.PortMapping{
						{HostPort: 8080, ContainerPort: 80, Protocol: "tcp", HostIP: "192.0.2.1"},
						{HostPort: 53, ContainerPort: 53, Protocol: "udp"},
					},
					Bandwidth: &ocicni.BandwidthConfig{IngressRate: 1000000, IngressBurst: 2000000, EgressRate: 3000000, EgressBurst: 4000000},
				},
				DefaultRoute: []net.IP{net.ParseIP("10.1.2.1").To4(), net.ParseIP("fd00::1")},
			}, {Entry: 1, Network: "tenant-a.storage", Ref: "tenant-a/storage", Ifname: "net2"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.namespace != "" {
				opts = append(opts, WithNamespace(tc.namespace))
			}
			sel := mustParse(t, tc.annotation, opts...)
			want := append([]Attachment{defaultAttachment}, tc.want...)
			if !reflect.DeepEqual(sel.Attachments, want) {
				t.Fatalf("attachments:\n got %+v\nwant %+v", sel.Attachments, want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	const anyEntry = -2 // the error names no entry
	for _, tc := range []struct {
		name       string
		annotation string
		namespace  string
		want       error
		index      int
		entry      string
		field      string
	}{
		{name: "empty item", annotation: "datanet,,storage", want: ocicni.ErrInvalidPodNetwork, index: 1, field: "name"},
		{name: "trailing comma", annotation: "datanet,", want: ocicni.ErrInvalidPodNetwork, index: 1, field: "name"},
		{name: "two slashes", annotation: "a/b/c", want: ocicni.ErrInvalidPodNetwork, index: 0, entry: "a/b/c", field: "name"},
		{name: "empty namespace", annotation: "/datanet", want: ocicni.ErrInvalidPodNetwork, index: 0, field: "namespace"},
		{name: "bad namespace", annotation: "datanet,Tenant_A/storage", want: ocicni.ErrInvalidPodNetwork, index: 1, entry: "Tenant_A/storage", field: "namespace"},
		{name: "namespace over 63", annotation: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/datanet", want: ocicni.ErrInvalidPodNetwork, index: 0, field: "namespace"},
		{name: "space in name", annotation: "data net", want: ocicni.ErrInvalidPodNetwork, index: 0, entry: "data net", field: "name"},
		{name: "empty interface", annotation: "datanet@", want: ocicni.ErrInvalidPodNetwork, index: 0, field: "interface"},
		{name: "two interfaces", annotation: "datanet@a@b", want: ocicni.ErrInvalidPodNetwork, index: 0, field: "interface"},
		{name: "interface too long", annotation: "datanet@interface-too-long", want: ocicni.ErrInvalidPodNetwork, index: 0, entry: "datanet", field: "interface"},
		{name: "interface with control character", annotation: `[{"name":"datanet","interface":"a\u0001b"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "interface"},
		{name: "unknown network", annotation: "datanet,nosuch", want: ocicni.ErrNetworkNotFound, index: 1, entry: "nosuch", field: "name"},
		{name: "unknown namespaced network", annotation: "tenant-a/nosuch", want: ocicni.ErrNetworkNotFound, index: 0, entry: "tenant-a/nosuch", field: "name"},
		{name: "unknown network in pod namespace", annotation: "nosuch", namespace: "web", want: ocicni.ErrNetworkNotFound, index: 0, field: "name"},
		{name: "interface of the default network", annotation: "datanet@eth0", want: ocicni.ErrInvalidPodNetwork, index: 0, field: "interface"},
		{name: "interface twice", annotation: "datanet@x,storage@x", want: ocicni.ErrInvalidPodNetwork, index: 1, entry: "storage", field: "interface"},
		{name: "named interface takes a later default", annotation: "datanet@net2,storage", want: ocicni.ErrInvalidPodNetwork, index: 1, field: "interface"},
		{name: "a single JSON object", annotation: `{"name":"datanet"}`, want: ocicni.ErrInvalidPodNetwork, index: anyEntry},
		{name: "quotes in the comma form", annotation: `"datanet"`, want: ocicni.ErrInvalidPodNetwork, index: anyEntry},
		{name: "broken JSON", annotation: `[{"name":"datanet"]`, want: ocicni.ErrInvalidPodNetwork, index: anyEntry},
		{name: "null entry", annotation: `[{"name":"datanet"},null]`, want: ocicni.ErrInvalidPodNetwork, index: 1, field: ""},
		{name: "string entry", annotation: `["datanet"]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: ""},
		{name: "missing name", annotation: `[{"interface":"x"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "name"},
		{name: "name not a string", annotation: `[{"name":7}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "name"},
		{name: "unknown field", annotation: `[{"name":"datanet","ipam-claim-reference":"x"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, entry: "datanet", field: "ipam-claim-reference"},
		{name: "unknown field in a port mapping", annotation: `[{"name":"datanet","portMappings":[{"hostPort":1,"containerPort":1,"proto":"tcp"}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "proto"},
		{name: "ips not a list", annotation: `[{"name":"datanet","namespace":"web","ips":"10.0.0.1/24"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, entry: "web/datanet", field: "ips"},
		{name: "bad ip", annotation: `[{"name":"datanet","ips":["10.0.0.300/24"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "ips"},
		{name: "ip twice", annotation: `[{"name":"datanet","ips":["10.0.0.1/24","10.0.0.1"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "ips"},
		{name: "bad mac", annotation: `[{"name":"datanet","mac":"02:00:00:00:00"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "mac"},
		{name: "multicast mac", annotation: `[{"name":"datanet","mac":"01:00:5e:00:00:01"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "mac"},
		{name: "zero mac", annotation: `[{"name":"datanet","mac":"00:00:00:00:00:00"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "mac"},
		{name: "eui-64 as mac", annotation: `[{"name":"datanet","mac":"02:11:22:33:44:55:66:77"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "mac"},
		{name: "bad infiniband guid", annotation: `[{"name":"datanet","infiniband-guid":"02:11:22:33:44:55"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "infiniband-guid"},
		{name: "deviceID with control character", annotation: `[{"name":"datanet","deviceID":"0000:03:00.1\n"}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "deviceID"},
		{name: "host port 0", annotation: `[{"name":"datanet","portMappings":[{"hostPort":0,"containerPort":80}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "container port over 65535", annotation: `[{"name":"datanet","portMappings":[{"hostPort":80,"containerPort":70000}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "port as string", annotation: `[{"name":"datanet","portMappings":[{"hostPort":"80","containerPort":80}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "bad protocol", annotation: `[{"name":"datanet","portMappings":[{"hostPort":80,"containerPort":80,"protocol":"icmp"}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "bad host IP", annotation: `[{"name":"datanet","portMappings":[{"hostPort":80,"containerPort":80,"hostIP":"localhost"}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "negative bandwidth", annotation: `[{"name":"datanet","bandwidth":{"ingressRate":-1}}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "bandwidth"},
		{name: "cni-args", annotation: `[{"name":"datanet","cni-args":{"foo":"bar"}}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "cni-args"},
		{name: "bad gateway", annotation: `[{"name":"datanet","default-route":["10.0.0"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "default-route"},
		{name: "unspecified gateway", annotation: `[{"name":"datanet","default-route":["0.0.0.0"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "default-route"},
		{name: "two IPv4 gateways in one entry", annotation: `[{"name":"datanet","default-route":["10.0.0.1","10.0.0.2"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "default-route"},
		{name: "two entries want the IPv4 default route", annotation: `[{"name":"datanet","default-route":["10.0.0.1"]},{"name":"storage","default-route":["fd00::1","10.1.0.1"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 1, entry: "storage", field: "default-route"},
		{name: "settings on a network selected twice", annotation: `[{"name":"datanet"},{"name":"datanet","interface":"d2","ips":["10.0.0.5/24"]}]`, want: ocicni.ErrInvalidPodNetwork, index: 1, field: "ips"},
		{name: "settings on the first of a network selected twice", annotation: `[{"name":"datanet","mac":"02:00:00:00:00:05"},{"name":"datanet"}]`, want: ocicni.ErrInvalidPodNetwork, index: 1, field: "mac"},
		{name: "settings on the default network", annotation: `[{"name":"podnet","portMappings":[{"hostPort":80,"containerPort":80}]}]`, want: ocicni.ErrInvalidPodNetwork, index: 0, field: "portMappings"},
		{name: "pod namespace not a namespace", annotation: "datanet", namespace: "Web.Tier", want: ocicni.ErrInvalidPodNetwork, index: anyEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			if tc.namespace != "" {
				opts = append(opts, WithNamespace(tc.namespace))
			}
			sel, err := Parse(tc.annotation, catalog, opts...)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.annotation, sel.Attachments)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v does not match %v", err, tc.want)
			}
			if tc.index == anyEntry {
				return
			}
			ee := entryError(t, err)
			if ee.Index != tc.index || ee.Field != tc.field || (tc.entry != "" && ee.Name != tc.entry) {
				t.Fatalf("error %v names entry %d (%q) field %q, want entry %d (%q) field %q",
					err, ee.Index, ee.Name, ee.Field, tc.index, tc.entry, tc.field)
			}
		})
	}
}

// A selection starts with the default network, so without one there is
// nothing to build; the error says the plugin is not ready, as SetUpPod
// would.
func TestParseNeedsDefaultNetwork(t *testing.T) {
	_, err := Parse("datanet", Catalog{Names: []string{"datanet"}})
	if !errors.Is(err, ocicni.ErrNoDefaultNetwork) || !errors.Is(err, ocicni.ErrNotReady) {
		t.Fatalf("error %v, want ErrNoDefaultNetwork and ErrNotReady", err)
	}
}

// CatalogOf reads a Plugin's view: the default and every loaded network.
func TestCatalogOf(t *testing.T) {
	c := CatalogOf(ocicni.NetworkSet{Default: "podnet", Networks: []ocicni.NetworkInfo{{Name: "podnet", Default: true}, {Name: "datanet"}}})
	if !reflect.DeepEqual(c, Catalog{Default: "podnet", Names: []string{"podnet", "datanet"}}) {
		t.Fatalf("CatalogOf = %+v", c)
	}
}
