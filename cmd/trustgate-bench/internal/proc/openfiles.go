package proc

import (
	"fmt"
	"syscall"
)

// RaiseOpenFiles lets this process (and the servers it starts, which
// inherit the limit) hold want open files, raising the hard limit too when
// allowed. It returns the soft limit now in force, and an error when that is
// less than want.
func RaiseOpenFiles(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-files limit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	raised := lim
	raised.Cur = want
	if raised.Max < want {
		raised.Max = want
	}
	hardErr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised)
	if hardErr == nil {
		return want, nil
	}
	// Not allowed to raise the hard limit (that takes CAP_SYS_RESOURCE):
	// go as far as it.
	raised.Cur, raised.Max = lim.Max, lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		return lim.Cur, fmt.Errorf("raising the open-files limit to %d: %w", lim.Max, err)
	}
	return lim.Max, fmt.Errorf("raising the hard open-files limit from %d to %d: %w", lim.Max, want, hardErr)
}
