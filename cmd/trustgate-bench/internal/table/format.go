package table

import (
	"fmt"
	"time"
)

// Millis formats a duration in milliseconds with two decimals: "1.25 ms".
func Millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// Micros formats a duration in microseconds with one decimal: "9.4 µs".
func Micros(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// MiB formats a byte count in MiB with one decimal: "59.1 MiB".
func MiB(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// KiBEach formats bytes shared among n items as KiB per item, with one
// decimal ("58.4 KiB"), or "n/a" when there are no items.
func KiBEach(bytes int64, n int) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f KiB", float64(bytes)/1024/float64(n))
}
