package main

import (
	"fmt"
	"os"
	"time"
)

// crowd is the "crowd" fault: it counts the calls running beside this one
// (each leaves a file in CrowdDir while it runs), waits up to a second for
// CrowdTarget of them, lingers a while longer so a call let in too early
// is seen too, appends the most it saw to CrowdLog, and succeeds. Its mark
// is gone before the process exits, so the count never includes a call
// that has finished: the largest line of CrowdLog is how many calls ran at
// once.
func crowd(cmd string, conf netConf) {
	mark := fmt.Sprintf("%s/%d", conf.CrowdDir, os.Getpid())
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		fail(93, "crowd: "+err.Error())
	}
	most := 0
	look := func() int {
		entries, err := os.ReadDir(conf.CrowdDir)
		if err != nil {
			fail(93, "crowd: "+err.Error())
		}
		most = max(most, len(entries))
		return len(entries)
	}
	for deadline := time.Now().Add(time.Second); look() < conf.CrowdTarget && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	for linger := time.Now().Add(50 * time.Millisecond); time.Now().Before(linger); time.Sleep(2 * time.Millisecond) {
		look()
	}
	if err := os.Remove(mark); err != nil {
		fail(93, "crowd: "+err.Error())
	}
	logCommand(conf.CrowdLog, fmt.Sprintf("%d\n", most))
	succeed(cmd, conf)
}
