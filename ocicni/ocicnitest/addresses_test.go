package ocicnitest_test

import (
	"fmt"
	"reflect"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

func TestAddressesDeterministicPerNetworkAndReused(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	if got := ips(t, p, fakePod("one", "a", "b")); !reflect.DeepEqual(got, []string{
		"eth0 10.88.0.2/24 10.88.0.1 02:00:0a:58:00:02",
		"eth1 10.88.1.2/24 10.88.1.1 02:00:0a:58:01:02",
	}) {
		t.Fatalf("first pod got %v", got)
	}
	if got := ips(t, p, fakePod("two", "a")); !reflect.DeepEqual(got, []string{"eth0 10.88.0.3/24 10.88.0.1 02:00:0a:58:00:03"}) {
		t.Fatalf("second pod got %v", got)
	}
	if err := p.TearDownPod(fakePod("one")); err != nil {
		t.Fatal(err)
	}
	if got := ips(t, p, fakePod("three", "a")); !reflect.DeepEqual(got, []string{"eth0 10.88.0.2/24 10.88.0.1 02:00:0a:58:00:02"}) {
		t.Fatalf("after teardown the lowest free address should be reused, got %v", got)
	}
}

func TestAddressesKeepSubnetAcrossSetNetworks(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	p.SetNetworks("c", "b")
	if got := ips(t, p, fakePod("one", "b", "c")); !reflect.DeepEqual(got, []string{
		"eth0 10.88.1.2/24 10.88.1.1 02:00:0a:58:01:02",
		"eth1 10.88.2.2/24 10.88.2.1 02:00:0a:58:02:02",
	}) {
		t.Fatalf("got %v: b keeps 10.88.1.0/24 and the new c gets the next subnet", got)
	}
	if p.GetDefaultNetworkName() != "c" {
		t.Fatalf("default %q, want the first network after SetNetworks", p.GetDefaultNetworkName())
	}
}

func TestAddressesExhaustedIsRetryable(t *testing.T) {
	p := ocicnitest.New()
	for i := range 253 {
		if _, err := p.SetUpPod(fakePod(fmt.Sprintf("p%d", i))); err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
	}
	_, err := p.SetUpPod(fakePod("one-too-many"))
	if !ocicni.IsRetryable(err) {
		t.Fatalf("setup with the /24 used up = %v, want a retryable CNI error", err)
	}
	if got := p.Attached("one-too-many"); len(got) != 0 {
		t.Fatalf("attached %v after a failed setup", got)
	}
}

func TestResultsAreCopies(t *testing.T) {
	p := ocicnitest.New()
	pod := fakePod("one")
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	res[0].Result.(*current.Result).IPs[0].Address.IP[3] = 99
	st, err := p.GetPodNetworkStatus(pod)
	if err != nil {
		t.Fatal(err)
	}
	if got := st[0].Result.(*current.Result).IPs[0].Address.String(); got != "10.88.0.2/24" {
		t.Fatalf("status reports %s after the caller changed its result", got)
	}
}
