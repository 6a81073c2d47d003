package main

import (
	"os"
	"time"
)

// holdLimit bounds the "hold" fault, so a test that never releases it
// leaves no plugin behind for long.
const holdLimit = 2 * time.Minute

// hold is the "hold" fault: the call works on until releaseFile exists,
// then succeeds, so a test can keep an ADD in flight for as long as it
// needs and end it at a moment of its choosing, which neither "hang" (it
// never succeeds) nor "slow" (it ends on its own) allow.
func hold(cmd string, conf netConf) {
	if conf.ReleaseFile == "" {
		fail(98, "hold: no releaseFile")
	}
	for deadline := time.Now().Add(holdLimit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(conf.ReleaseFile); err == nil {
			succeed(cmd, conf)
			return
		}
	}
	fail(93, "hold: never released")
}
