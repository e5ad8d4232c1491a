package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/chaosload/chaosload/readiness"
	"github.com/spf13/cobra"
)

func (a *app) criteriaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "criteria [FILE]",
		Short: "Print the bundled readiness criteria, or check a criteria file",
		Long: `criteria without an argument prints the bundled criteria file: the load-and-stress
plan that run --out DIR judges readiness against (DIR/readiness.md, .html).
Copy it, change it, and pass it with run --criteria FILE.

criteria FILE checks FILE and lists its criteria with what each metric
measures; exit 2 when it is invalid (every problem with its file:line:col).`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				_, err := a.stdout.Write(readiness.DefaultYAML())
				return err
			}
			c, err := readiness.Load(files[0])
			if err != nil {
				return usageError{err}
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "%s: %d criteria (%s)\n", c.File, len(c.Criteria), c.Name)
			for _, cr := range c.Criteria {
				doc := readiness.MetricDoc(cr.Metric)
				if doc == "" {
					doc = "the observed value of every check of that threshold"
				}
				fmt.Fprintf(tw, "  %s\t%s %s\ttag %q\t%s\n", cr.ID, cr.Metric, cr.Expect.Text, cr.Tag, doc)
			}
			return tw.Flush()
		},
	}
}
