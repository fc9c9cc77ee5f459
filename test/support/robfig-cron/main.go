// Command robfig-cron parses schedules exactly as Kubernetes CronJobs, Velero Schedules and Longhorn
// RecurringJobs do: github.com/robfig/cron v3 ParseStandard (Debian golang-github-robfig-cron-dev,
// v3.0.1). Kubernetes: pkg/apis/batch/validation/validation.go validateScheduleFormat; Velero:
// pkg/controller/schedule_controller.go parseCronSchedule; Longhorn: longhorn-manager's recurring
// job validation. Each stdin line is one schedule; each stdout line is a JSON object with the
// schedule, the parser's error (empty when accepted) and, when accepted, the next runs after the
// time given as the first argument (RFC 3339), in UTC.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/robfig/cron"
)

type result struct {
	Expr  string   `json:"expr"`
	Error string   `json:"error"`
	Next  []string `json:"next"`
}

func main() {
	from, err := time.Parse(time.RFC3339, os.Args[1])
	if err != nil {
		panic(err)
	}
	count, err := strconv.Atoi(os.Args[2])
	if err != nil {
		panic(err)
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		expr := in.Text()
		r := result{Expr: expr, Next: []string{}}
		schedule, err := cron.ParseStandard(expr)
		if err != nil {
			r.Error = err.Error()
		} else {
			t := from.UTC()
			for i := 0; i < count; i++ {
				t = schedule.Next(t)
				if t.IsZero() {
					break
				}
				r.Next = append(r.Next, t.UTC().Format(time.RFC3339))
			}
		}
		if err := out.Encode(r); err != nil {
			panic(err)
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
