//go:build linux

package ocicnitest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// A runtime's unit test hands the fake to the code under test wherever it
// takes an ocicni.CNIPlugin. The fake checks a PodNetwork as the real
// plugin does, so the netns path must be a network namespace file; it is
// never entered, and /proc/self/ns/net is always there.
func Example() {
	var cni ocicni.CNIPlugin = ocicnitest.New(ocicnitest.WithNetworks("net-a", "net-b"))

	pod := ocicni.PodNetwork{
		Namespace: "default", Name: "web", ID: "4f2a9c", NetNS: "/proc/self/ns/net",
		Networks: []ocicni.NetAttachment{{Name: "net-a"}, {Name: "net-b"}},
	}
	results, err := cni.SetUpPod(pod)
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		res := r.Result.(*current.Result)
		fmt.Println(r.Name, r.Ifname, &res.IPs[0].Address, "via", res.IPs[0].Gateway)
	}

	// Setting the same attachments up again is refused, as by the real plugin.
	_, err = cni.SetUpPod(pod)
	fmt.Println(errors.Is(err, ocicni.ErrAlreadyAttached))

	pod.Networks = nil // every attachment of the sandbox, last attached first
	fmt.Println(cni.TearDownPod(pod), cni.TearDownPod(pod))
	// Output:
	// net-a eth0 10.88.0.2/24 via 10.88.0.1
	// net-b eth1 10.88.1.2/24 via 10.88.1.1
	// true
	// <nil> <nil>
}

// A scripted failure reaches the caller as the real plugin's would: an
// *ocicni.OpError naming the network, wrapping the plugin's
// *cnitypes.Error with its code. The networks attached before it were
// rolled back.
func ExampleFault() {
	fake := ocicnitest.New(
		ocicnitest.WithNetworks("net-a", "net-b"),
		ocicnitest.WithFaults(ocicnitest.Fault{
			Network: "net-b", Verb: ocicnitest.VerbAdd,
			Code: cnitypes.ErrTryAgainLater, Msg: "IPAM busy", Once: true,
		}),
	)
	pod := ocicni.PodNetwork{
		Namespace: "default", Name: "web", ID: "4f2a9c", NetNS: "/proc/self/ns/net",
		Networks: []ocicni.NetAttachment{{Name: "net-a"}, {Name: "net-b"}},
	}

	_, err := fake.SetUpPod(pod)
	var opErr *ocicni.OpError
	var cniErr *cnitypes.Error
	if errors.As(err, &opErr) && errors.As(err, &cniErr) {
		fmt.Printf("%s of %s failed: code %d, %q\n", opErr.Op, opErr.Network, cniErr.Code, cniErr.Msg)
	}
	fmt.Println("retryable:", ocicni.IsRetryable(err), "left attached:", len(fake.Attached(pod.ID)))

	// The fault applied once, so a retry succeeds.
	_, err = fake.SetUpPod(pod)
	fmt.Println("retry:", err)
	// Output:
	// add of net-b failed: code 11, "IPAM busy"
	// retryable: true left attached: 0
	// retry: <nil>
}

// Fault.Hang makes an operation block until its context ends, so a test
// can prove the runtime gives up in time.
func ExampleFault_hang() {
	fake := ocicnitest.New(ocicnitest.WithFaults(ocicnitest.Fault{Verb: ocicnitest.VerbAdd, Hang: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()

	_, err := fake.SetUpPodWithContext(ctx, ocicni.PodNetwork{ID: "4f2a9c", NetNS: "/proc/self/ns/net"})
	fmt.Println(errors.Is(err, ocicni.ErrPluginTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true true
}

// GC removes the attachments of every sandbox the runtime no longer knows.
func ExamplePlugin_GC() {
	fake := ocicnitest.New()
	for _, id := range []string{"alive", "gone"} {
		if _, err := fake.SetUpPod(ocicni.PodNetwork{ID: id, NetNS: "/proc/self/ns/net"}); err != nil {
			panic(err)
		}
	}

	err := fake.GC(context.Background(), []*ocicni.PodNetwork{{ID: "alive"}})
	fmt.Println(err, fake.Attached("alive"), fake.Attached("gone"))
	// Output:
	// <nil> [{fake-net eth0}] []
}

// Calls shows what the runtime asked for, and each network operation it
// led to, in order.
func ExamplePlugin_Calls() {
	fake := ocicnitest.New()
	pod := ocicni.PodNetwork{Namespace: "default", Name: "web", ID: "4f2a9c", NetNS: "/proc/self/ns/net"}
	_, _ = fake.SetUpPod(pod)
	_ = fake.TearDownPod(pod)

	for _, c := range fake.Calls() {
		fmt.Print(c.Method, " ", c.Pod.Namespace, "/", c.Pod.Name, ":")
		for _, s := range c.Steps {
			fmt.Print(" ", s.Verb, " ", s.Network, " ", s.Ifname)
		}
		fmt.Println(" err:", c.Err)
	}
	// Output:
	// SetUpPod default/web: ADD fake-net eth0 err: <nil>
	// TearDownPod default/web: DEL fake-net eth0 err: <nil>
}

// A fake without networks is not ready, like a node whose network
// provider has not installed its configuration yet; SetNetworks plays
// the provider.
func ExamplePlugin_WaitReady() {
	fake := ocicnitest.New(ocicnitest.WithNetworks())
	fmt.Println(errors.Is(fake.Status(), ocicni.ErrNotReady))

	ready := make(chan error)
	go func() { ready <- fake.WaitReady(context.Background()) }()
	fake.SetNetworks("provider-net")
	fmt.Println(<-ready, fake.GetDefaultNetworkName())
	// Output:
	// true
	// <nil> provider-net
}
