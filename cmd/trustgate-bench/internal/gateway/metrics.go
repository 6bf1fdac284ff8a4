package gateway

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MetricSum scrapes the server's admin /metrics and returns the sum of
// every series of the metric called name (all label values).
func (s *Server) MetricSum(name string) (float64, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(s.Admin + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("scraping the %s server's metrics: %w", s.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scraping the %s server's metrics: status %d", s.name, resp.StatusCode)
	}
	var (
		sum   float64
		found bool
	)
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for lines.Scan() {
		line := lines.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum, found = sum+v, true
	}
	if err := lines.Err(); err != nil {
		return 0, fmt.Errorf("reading the %s server's metrics: %w", s.name, err)
	}
	if !found {
		return 0, fmt.Errorf("the %s server reports no %s", s.name, name)
	}
	return sum, nil
}
