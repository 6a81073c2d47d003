package ocicni

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// Networks encodes to JSON with stable lower-case keys, so a runtime or
// tool can print it or serve it as is; Changed is left out.
func TestNetworksEncodeToJSONWithStableKeys(t *testing.T) {
	e := newEnv(t)
	good := filepath.Join(e.confDir, "10-a.conflist")
	testutil.WriteFile(t, good, testutil.ConfBytes("a", "1.0.0", "noop"))
	bad := filepath.Join(e.confDir, "20-b.conflist")
	testutil.WriteFile(t, bad, []byte("{not json"))
	p := e.plugin(WithWatch(false))

	data, err := json.Marshal(p.Networks())
	if err != nil {
		t.Fatalf("json.Marshal(Networks()) = %v", err)
	}
	if got, want := sortedKeys(t, data), []string{"confDir", "default", "networks", "skipped"}; !slices.Equal(got, want) {
		t.Fatalf("NetworkSet keys = %v, want %v", got, want)
	}
	var parts struct {
		Networks []json.RawMessage `json:"networks"`
		Skipped  []json.RawMessage `json:"skipped"`
	}
	if err := json.Unmarshal(data, &parts); err != nil {
		t.Fatal(err)
	}
	if len(parts.Networks) != 1 || len(parts.Skipped) != 1 {
		t.Fatalf("encoded %s; want one network and one skipped file", data)
	}
	wantNet := []string{"cniVersion", "default", "disableCheck", "disableGC", "file", "name", "pluginTypes"}
	if got := sortedKeys(t, parts.Networks[0]); !slices.Equal(got, wantNet) {
		t.Fatalf("NetworkInfo keys = %v, want %v", got, wantNet)
	}
	if got := sortedKeys(t, parts.Skipped[0]); !slices.Equal(got, []string{"file", "reason"}) {
		t.Fatalf("SkippedFile keys = %v, want [file reason]", got)
	}

	var back NetworkSet
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	n := back.Networks[0]
	if back.ConfDir != e.confDir || back.Default != "a" || n.Name != "a" || n.File != good ||
		n.CNIVersion != "1.0.0" || !slices.Equal(n.PluginTypes, []string{"noop"}) || !n.Default ||
		back.Skipped[0].File != bad || back.Skipped[0].Reason == "" {
		t.Fatalf("decoded %+v from %s; want the view Networks returned", back, data)
	}
}

// An empty conf dir encodes its lists as [], not null, so a consumer can
// range over them without a nil check.
func TestNetworksEncodeEmptyListsAsArrays(t *testing.T) {
	e := newEnv(t)
	data, err := json.Marshal(e.plugin(WithWatch(false)).Networks())
	if err != nil {
		t.Fatal(err)
	}
	var lists struct {
		Networks *[]json.RawMessage `json:"networks"`
		Skipped  *[]json.RawMessage `json:"skipped"`
	}
	if err := json.Unmarshal(data, &lists); err != nil {
		t.Fatal(err)
	}
	if lists.Networks == nil || lists.Skipped == nil {
		t.Fatalf("encoded %s; want networks and skipped as [] even when empty", data)
	}
}

func sortedKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s is not a JSON object: %v", data, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
