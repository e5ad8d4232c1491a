package slo

import (
	"time"

	"github.com/chaosload/chaosload/config"
)

// windowJudge judges the sliding windows of recovery detection: window k
// is [start + k·step, start + k·step + length), and it is good when every
// threshold holds on it. Verdicts are memoised, so the scan and the
// reporting that follows read each window once.
type windowJudge struct {
	src     Source
	ths     config.Thresholds
	start   time.Duration
	length  time.Duration
	step    time.Duration
	horizon time.Duration
	memo    []windowVerdict
	pool    histPool
}

// windowVerdict is one window judged. When not good, failed is the first
// threshold that failed (by index) and obs what it observed.
type windowVerdict struct {
	good   bool
	failed int
	obs    Observation
}

func newWindowJudge(src Source, ths config.Thresholds, start, length, step, horizon time.Duration) *windowJudge {
	return &windowJudge{src: src, ths: ths, start: start, length: length, step: step, horizon: horizon}
}

// at returns the start of window k.
func (j *windowJudge) at(k int) time.Duration { return j.start + time.Duration(k)*j.step }

// judgeable reports whether window k lies wholly within the data.
func (j *windowJudge) judgeable(k int) bool { return k >= 0 && j.at(k)+j.length <= j.horizon }

// verdict judges window k, which must be judgeable; windows are judged in
// order, each once.
func (j *windowJudge) verdict(k int) windowVerdict {
	for len(j.memo) <= k {
		j.memo = append(j.memo, j.judge(len(j.memo)))
	}
	return j.memo[k]
}

func (j *windowJudge) judge(k int) windowVerdict {
	w := newWindowSet(j.src, j.at(k), j.at(k)+j.length, &j.pool)
	defer w.release()
	for i, th := range j.ths {
		if obs := w.evaluate(th); !obs.Pass {
			return windowVerdict{failed: i, obs: obs}
		}
	}
	return windowVerdict{good: true, failed: -1}
}
