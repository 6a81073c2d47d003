package attachstore

import "testing"

// Two setups whose attachments share a cache path (sandbox a-b on network
// c, sandbox b on network c-a: c-a-b-eth0) and that start together are
// told apart before either has written the entry: the second is refused,
// and the path is free again once the first releases it.
func TestClaimRefusesCollidingAttachmentBeforeAnythingIsWritten(t *testing.T) {
	s := New(t.TempDir())
	release, other := s.Claim("c", "a-b", "eth0")
	if other != nil {
		t.Fatalf("first claim refused for %+v", other)
	}
	if _, other := s.Claim("c-a", "b", "eth0"); other == nil || other.ID != "a-b" || other.Network != "c" {
		t.Fatalf("colliding claim got other %+v, want sandbox a-b on c", other)
	}
	again, other := s.Claim("c", "a-b", "eth0")
	if other != nil {
		t.Fatalf("the same attachment's second claim refused for %+v", other)
	}
	again()
	release()
	r, other := s.Claim("c-a", "b", "eth0")
	if other != nil {
		t.Fatalf("claim after release refused for %+v", other)
	}
	r()
}
