package proc

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The CPU time read from /proc grows while this process works: the
// fields read are utime and stime, whatever the command name holds.
func TestCPUGrowsWhileTheProcessWorks(t *testing.T) {
	start, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i % 7
		}
		now, err := CPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now >= start+5*clockTick {
			return
		}
	}
	t.Fatalf("CPU time stayed at %s after 30 s of work (%d)", start, x)
}

func TestRSSCountsMemoryTouched(t *testing.T) {
	before, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 {
		t.Fatalf("RSS %d, want a positive size", before)
	}
	held := make([]byte, 64<<20)
	for i := range held {
		if i%4096 == 0 {
			held[i] = 1
		}
	}
	after, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(held)
	if after-before < 32<<20 {
		t.Errorf("RSS grew by %d bytes after touching 64 MiB, want at least 32 MiB", after-before)
	}
}

func TestCPUAndRSSOfAMissingProcessFail(t *testing.T) {
	// PIDs are below 2^22 on Linux.
	const missing = 1 << 30
	if _, err := CPU(missing); err == nil {
		t.Error("CPU of a missing process: no error")
	}
	if _, err := RSS(missing); err == nil {
		t.Error("RSS of a missing process: no error")
	}
}

func TestLoadAverageHasThreeFigures(t *testing.T) {
	if got := strings.Fields(LoadAverage()); len(got) != 3 {
		t.Errorf("load average %q, want three figures", got)
	}
}

func TestRaiseOpenFilesKeepsALimitAlreadyHighEnough(t *testing.T) {
	got, err := RaiseOpenFiles(16)
	if err != nil || got < 16 {
		t.Errorf("RaiseOpenFiles(16) = %d, %v; want at least 16 and no error", got, err)
	}
}
