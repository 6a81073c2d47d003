package types

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// result parses a CNI result document of any version, as a plugin's
// stdout would be.
func result(t *testing.T, doc string) cnitypes.Result {
	t.Helper()
	r, err := version.NewResult(versionOf(t, doc), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func versionOf(t *testing.T, doc string) string {
	t.Helper()
	var m struct {
		CNIVersion string `json:"cniVersion"`
	}
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return m.CNIVersion
}

func TestDeviceData(t *testing.T) {
	cases := []struct {
		name   string
		ifname string
		doc    string
		want   NetworkDeviceData
	}{{
		name:   "bridge: host side left out",
		ifname: "eth0",
		doc: `{"cniVersion":"1.0.0","interfaces":[
			{"name":"cni0","mac":"aa:aa:aa:aa:aa:01"},
			{"name":"veth1","mac":"aa:aa:aa:aa:aa:02"},
			{"name":"eth0","mac":"0a:58:0a:01:02:03","sandbox":"/run/netns/p"}],
			"ips":[{"address":"10.1.2.3/24","gateway":"10.1.2.1","interface":2},
			       {"address":"fd00::3/64","interface":2},
			       {"address":"10.9.9.9/24","interface":0}]}`,
		want: NetworkDeviceData{InterfaceName: "eth0", IPs: []string{"10.1.2.3/24", "fd00::3/64"}, HardwareAddress: "0a:58:0a:01:02:03"},
	}, {
		name:   "the named one of two pod interfaces",
		ifname: "net1",
		doc: `{"cniVersion":"1.1.0","interfaces":[
			{"name":"eth0","mac":"0a:00:00:00:00:01","sandbox":"/p"},
			{"name":"net1","mac":"0a:00:00:00:00:02","sandbox":"/p"}],
			"ips":[{"address":"10.0.0.1/16","interface":0},{"address":"10.1.0.1/16","interface":1}]}`,
		want: NetworkDeviceData{InterfaceName: "net1", IPs: []string{"10.1.0.1/16"}, HardwareAddress: "0a:00:00:00:00:02"},
	}, {
		name:   "old result version, address with no interface",
		ifname: "eth0",
		doc:    `{"cniVersion":"0.3.1","interfaces":[{"name":"eth0","sandbox":"/p"}],"ips":[{"version":"4","address":"192.0.2.7/25"}]}`,
		want:   NetworkDeviceData{InterfaceName: "eth0", IPs: []string{"192.0.2.7/25"}},
	}, {
		name:   "IPAM only: the attachment's ifname",
		ifname: "eth3",
		doc:    `{"cniVersion":"1.0.0","ips":[{"address":"192.0.2.8/24"}]}`,
		want:   NetworkDeviceData{InterfaceName: "eth3", IPs: []string{"192.0.2.8/24"}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NetResult{Result: result(t, c.doc), NetAttachment: NetAttachment{Name: "n", Ifname: c.ifname}}.DeviceData()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("DeviceData = %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Kubernetes refuses more than 16 addresses; the first 16 reported are kept.
func TestDeviceDataKeepsAtMostSixteenIPs(t *testing.T) {
	var ips []string
	for i := range 20 {
		ips = append(ips, fmt.Sprintf(`{"address":"10.0.0.%d/24","interface":0}`, i+1))
	}
	doc := `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/p"}],"ips":[` + strings.Join(ips, ",") + `]}`
	got, err := NetResult{Result: result(t, doc), NetAttachment: NetAttachment{Ifname: "eth0"}}.DeviceData()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.IPs) != MaxDeviceIPs || got.IPs[0] != "10.0.0.1/24" || got.IPs[15] != "10.0.0.16/24" {
		t.Fatalf("IPs = %v; want the first %d", got.IPs, MaxDeviceIPs)
	}
}

// The JSON keys are the Kubernetes API's.
func TestDeviceDataJSONMatchesKubernetes(t *testing.T) {
	b, err := json.Marshal(NetworkDeviceData{InterfaceName: "eth0", IPs: []string{"10.0.0.1/24"}, HardwareAddress: "0a:00:00:00:00:01"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"interfaceName":"eth0","ips":["10.0.0.1/24"],"hardwareAddress":"0a:00:00:00:00:01"}`; string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}

func TestDeviceDataWithoutResult(t *testing.T) {
	if _, err := (NetResult{NetAttachment: NetAttachment{Ifname: "eth0"}}).DeviceData(); err == nil {
		t.Fatal("DeviceData of an attachment with no result succeeded")
	}
}
