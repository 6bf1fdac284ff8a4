package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// svgChart is a chart drawn on the server as inline SVG: the geometry is
// computed here, the template only writes it out, and every label goes
// through html/template's escaping. It scales with its viewBox, and says
// what it shows in a <title>, a <desc> and a data table.
type svgChart struct {
	// ID is unique on the page (for aria-labelledby).
	ID string
	// Kind is the chart's shape (hbar, time), a class for the stylesheet.
	Kind          string
	Title, Desc   string
	Width, Height int
	Rects         []chartRect
	Lines         []chartLine
	Texts         []chartText
	// Table is the chart's data as text.
	Table chartTable
	// Empty says there is nothing to draw.
	Empty bool
}

// chartRect is a bar; Label is its tooltip.
type chartRect struct {
	X, Y, W, H float64
	Class      string
	Label      string
}

// chartLine is an axis or a grid line.
type chartLine struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// chartText is a label; Rotate turns it to read upwards (a y-axis label).
type chartText struct {
	X, Y   float64
	Anchor string
	Class  string
	Rotate bool
	Text   string
}

// chartTable is a chart's text alternative.
type chartTable struct {
	Head []string
	Rows [][]string
}

// chartBarItem is one bar of a horizontal bar chart.
type chartBarItem struct {
	Label string
	Value int
}

// round1 keeps one decimal, so the SVG stays small.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// hbarChart draws labelled horizontal bars, longest scale first as given,
// with the values written after the bars. Labels longer than fit are cut
// (the table keeps them whole).
func hbarChart(id, title, desc, valueLabel string, items []chartBarItem) svgChart {
	const (
		width    = 460
		labelW   = 190.0
		barX     = 198.0
		barMaxW  = 220.0
		rowH     = 26.0
		topPad   = 10.0
		axisRoom = 44.0
	)
	c := svgChart{ID: id, Kind: "hbar", Title: title, Desc: desc, Width: width}
	c.Table.Head = []string{"", valueLabel}
	if len(items) == 0 {
		c.Empty = true
		c.Height = 60
		c.Texts = append(c.Texts, chartText{X: width / 2, Y: 34, Anchor: "middle", Class: "muted", Text: "No data"})
		return c
	}
	maxV := 0
	for _, it := range items {
		maxV = max(maxV, it.Value)
	}
	plotBottom := topPad + float64(len(items))*rowH
	c.Height = int(plotBottom + axisRoom)
	for i, it := range items {
		y := topPad + float64(i)*rowH
		w := 0.0
		if maxV > 0 {
			w = barMaxW * float64(it.Value) / float64(maxV)
		}
		c.Rects = append(c.Rects, chartRect{X: barX, Y: round1(y + 4), W: round1(max(w, 1)), H: rowH - 8, Class: "bar",
			Label: fmt.Sprintf("%s: %d", it.Label, it.Value)})
		c.Texts = append(c.Texts,
			chartText{X: labelW, Y: round1(y + rowH/2 + 5), Anchor: "end", Text: clip(it.Label, 24)},
			chartText{X: round1(barX + w + 6), Y: round1(y + rowH/2 + 5), Anchor: "start", Class: "value", Text: strconv.Itoa(it.Value)})
		c.Table.Rows = append(c.Table.Rows, []string{it.Label, strconv.Itoa(it.Value)})
	}
	c.Lines = append(c.Lines,
		chartLine{X1: barX, Y1: topPad, X2: barX, Y2: plotBottom, Class: "axis"},
		chartLine{X1: barX, Y1: plotBottom, X2: barX + barMaxW, Y2: plotBottom, Class: "axis"})
	c.Texts = append(c.Texts,
		chartText{X: barX, Y: plotBottom + 16, Anchor: "middle", Class: "tick", Text: "0"},
		chartText{X: barX + barMaxW, Y: plotBottom + 16, Anchor: "middle", Class: "tick", Text: strconv.Itoa(maxV)},
		chartText{X: barX + barMaxW/2, Y: plotBottom + 36, Anchor: "middle", Class: "axis-label", Text: valueLabel})
	return c
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timeSeries is one stacked series of a time chart.
type timeSeries struct {
	Name   string
	Class  string
	Values []int
}

// stackedTimeChart draws stacked bars, one per time bucket, with a legend,
// a y axis of counts and an x axis of bucket labels (some of them, so that
// they do not overlap).
func stackedTimeChart(id, title, desc, xLabel, yLabel string, buckets []string, series []timeSeries) svgChart {
	const (
		width  = 720
		height = 330
		left   = 56.0
		right  = 706.0
		top    = 40.0
		bottom = 266.0
	)
	c := svgChart{ID: id, Kind: "time", Title: title, Desc: desc, Width: width, Height: height}
	c.Table.Head = []string{xLabel}
	for _, s := range series {
		c.Table.Head = append(c.Table.Head, s.Name)
	}
	totals := make([]int, len(buckets))
	for _, s := range series {
		for i, v := range s.Values {
			totals[i] += v
		}
	}
	maxV := 0
	for _, t := range totals {
		maxV = max(maxV, t)
	}
	scaleMax := niceCeil(maxV)
	slot := (right - left) / float64(max(len(buckets), 1))
	barW := max(slot*0.7, 1)
	for i, b := range buckets {
		x := left + float64(i)*slot + (slot-barW)/2
		y := bottom
		row := []string{b}
		for _, s := range series {
			v := s.Values[i]
			row = append(row, strconv.Itoa(v))
			if v == 0 {
				continue
			}
			h := (bottom - top) * float64(v) / float64(scaleMax)
			y -= h
			c.Rects = append(c.Rects, chartRect{X: round1(x), Y: round1(y), W: round1(barW), H: round1(h), Class: s.Class,
				Label: fmt.Sprintf("%s, %s: %d", b, s.Name, v)})
		}
		c.Table.Rows = append(c.Table.Rows, row)
	}
	// Y axis: grid lines at 0, half and the top of the scale.
	for _, v := range []int{0, scaleMax / 2, scaleMax} {
		y := round1(bottom - (bottom-top)*float64(v)/float64(scaleMax))
		c.Lines = append(c.Lines, chartLine{X1: left, Y1: y, X2: right, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, chartText{X: left - 6, Y: y + 4, Anchor: "end", Class: "tick", Text: strconv.Itoa(v)})
	}
	c.Lines = append(c.Lines,
		chartLine{X1: left, Y1: top, X2: left, Y2: bottom, Class: "axis"},
		chartLine{X1: left, Y1: bottom, X2: right, Y2: bottom, Class: "axis"})
	// X axis: about seven labels at most.
	every := max(1, (len(buckets)+6)/7)
	for i := 0; i < len(buckets); i += every {
		x := round1(left + float64(i)*slot + slot/2)
		c.Texts = append(c.Texts, chartText{X: x, Y: bottom + 18, Anchor: "middle", Class: "tick", Text: buckets[i]})
	}
	c.Texts = append(c.Texts,
		chartText{X: (left + right) / 2, Y: bottom + 44, Anchor: "middle", Class: "axis-label", Text: xLabel},
		chartText{X: 16, Y: (top + bottom) / 2, Anchor: "middle", Class: "axis-label", Rotate: true, Text: yLabel})
	// Legend, top left.
	lx := left
	for _, s := range series {
		c.Rects = append(c.Rects, chartRect{X: lx, Y: 12, W: 12, H: 12, Class: s.Class + " legend", Label: s.Name})
		c.Texts = append(c.Texts, chartText{X: lx + 18, Y: 22, Anchor: "start", Text: s.Name})
		lx += 40 + 13*float64(len(s.Name))
	}
	if maxV == 0 {
		c.Empty = true
		c.Texts = append(c.Texts, chartText{X: (left + right) / 2, Y: (top + bottom) / 2, Anchor: "middle", Class: "muted", Text: "No logins in this window"})
	}
	return c
}

// niceCeil rounds n up to a scale top that reads well (1, 2, 5 × 10^k;
// 2, 4, 6 or 10 below ten), whose half is a whole number.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	if n <= 10 {
		for _, m := range []int{4, 6, 10} {
			if m >= n {
				return m
			}
		}
	}
	p := 10
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

// chartSummary lists the largest items of a bar chart for its <desc>.
func chartSummary(items []chartBarItem, unit string) string {
	if len(items) == 0 {
		return "No data."
	}
	parts := make([]string, 0, 3)
	for _, it := range items[:min(3, len(items))] {
		parts = append(parts, fmt.Sprintf("%s: %d %s", it.Label, it.Value, unit))
	}
	return strings.Join(parts, "; ") + "."
}
