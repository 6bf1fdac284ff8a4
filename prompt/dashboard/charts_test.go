package dashboard

import (
	"strings"
	"testing"
)

func TestDashboardChartsScaleToTheirData(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, 2}, {1, 2}, {3, 4}, {5, 6}, {7, 10}, {10, 10}, {11, 20}, {42, 50}, {100, 100}, {150, 200}, {999, 1000}} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%d) = %d, want %d", c.in, got, c.want)
		}
	}
	bars := hbarChart("c", "T", "D", "devices", []chartBarItem{{"14", 4}, {"13", 2}, {"a very long label that goes on and on", 1}})
	if len(bars.Rects) != 3 || bars.Rects[0].W != 220 || bars.Rects[1].W != 110 || bars.Empty {
		t.Errorf("bars: %+v", bars.Rects)
	}
	if !slicesContainText(bars.Texts, "a very long label that …") || bars.Table.Rows[2][0] != "a very long label that goes on and on" {
		t.Errorf("long label: %+v / %v", bars.Texts, bars.Table.Rows)
	}
	if empty := hbarChart("c", "T", "D", "devices", nil); !empty.Empty || len(empty.Rects) != 0 {
		t.Errorf("empty chart: %+v", empty)
	}
	series := []timeSeries{{Name: "trusted", Class: "trusted", Values: []int{1, 0, 3}}, {Name: "not trusted", Class: "untrusted", Values: []int{1, 0, 0}}}
	tc := stackedTimeChart("t", "T", "D", "day", "logins", []string{"a", "b", "c"}, series)
	// Three bars (bucket b has none) besides the two legend keys.
	var bars3 int
	for _, r := range tc.Rects {
		if !strings.Contains(r.Class, "legend") {
			bars3++
		}
	}
	if bars3 != 3 || len(tc.Table.Rows) != 3 || tc.Table.Rows[2][1] != "3" || tc.Empty {
		t.Errorf("time chart: %d bars, table %v", bars3, tc.Table.Rows)
	}
}

func slicesContainText(texts []chartText, s string) bool {
	for _, t := range texts {
		if t.Text == s {
			return true
		}
	}
	return false
}
