package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// table collects the samples of every row and column and prints them as
// a Markdown table: median, 90th-percentile round, and the median's time
// ratio to the baseline column.
type table struct {
	cols    []column
	rows    []row
	na      [][]string          // [row][col]: text shown instead of a value
	samples [][][]time.Duration // [row][col]
	loads   []workload
	cpu     [][][]time.Duration // [workload][col]: CPU time of each round
}

func newTable(cols []column, loads []workload) *table {
	t := &table{cols: cols, loads: loads}
	for _, l := range loads {
		t.cpu = append(t.cpu, make([][]time.Duration, len(cols)))
		for _, r := range l.rows {
			t.rows = append(t.rows, r)
			t.na = append(t.na, make([]string, len(cols)))
			t.samples = append(t.samples, make([][]time.Duration, len(cols)))
		}
	}
	return t
}

// percentile returns the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

// value formats a duration as the row shows it.
func (r row) value(d time.Duration) string {
	if r.pods > 0 {
		return fmt.Sprintf("%.1f", float64(r.pods)/d.Seconds())
	}
	return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
}

func (t *table) cell(ri, ci int) string {
	if t.na[ri][ci] != "" {
		return t.na[ri][ci]
	}
	ds := t.samples[ri][ci]
	if len(ds) == 0 {
		return "-"
	}
	r := t.rows[ri]
	med := percentile(ds, 50)
	out := fmt.Sprintf("%s (p90 %s)", r.value(med), r.value(percentile(ds, 90)))
	for bi, c := range t.cols {
		if c.baseline && len(t.samples[ri][bi]) > 0 {
			out += fmt.Sprintf(" ×%.2f", med.Seconds()/percentile(t.samples[ri][bi], 50).Seconds())
		}
	}
	return out
}

// writeHead prints the header of a table with a column per
// implementation.
func (t *table) writeHead(w io.Writer) {
	head := []string{"workload"}
	for _, c := range t.cols {
		head = append(head, c.title)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
}

func (t *table) write(w io.Writer) {
	t.writeHead(w)
	for ri, r := range t.rows {
		cells := []string{r.title}
		for ci := range t.cols {
			cells = append(cells, t.cell(ri, ci))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// writeCPU prints the median CPU time of a round of each workload: on a
// machine with n cores, no implementation can finish a round in less than
// its CPU time divided by n.
func (t *table) writeCPU(w io.Writer) {
	t.writeHead(w)
	for li, l := range t.loads {
		cells := []string{l.key}
		for ci := range t.cols {
			if ds := t.cpu[li][ci]; len(ds) > 0 {
				cells = append(cells, fmt.Sprintf("%.1f", float64(percentile(ds, 50).Microseconds())/1000))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
