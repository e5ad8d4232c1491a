package slo

// scan walks the recovery windows in order, looking for the first
// candidate t whose window and the holds windows after it are all good.
// Candidate k is window k's start; bound is the last candidate within the
// recovery bound (negative when there is none).
type scan struct {
	j     *windowJudge
	holds int
	bound int

	judged    int // windows judged
	good      int // length of the run of good windows ending at the last judged
	recovered int // the recovery candidate, -1 when none
	firstGood int // the first good window, -1 when none
	flaps     int
}

// run judges windows until a candidate recovers or the data ends. A
// recovery past the bound is still looked for: it says how far off the
// service was.
func (s *scan) run() {
	s.recovered, s.firstGood = -1, -1
	wasGood := false
	for k := 0; s.j.judgeable(k); k++ {
		s.judged = k + 1
		good := s.j.verdict(k).good
		if good {
			s.good++
			if s.firstGood < 0 {
				s.firstGood = k
			}
		} else {
			if wasGood && k <= s.bound+s.holds {
				s.flaps++ // looked recovered, then was not
			}
			s.good = 0
		}
		wasGood = good
		if s.good == s.holds+1 {
			s.recovered = k - s.holds
			return
		}
	}
}

// undecided reports whether some candidate within the bound could be
// neither confirmed nor ruled out before the data ended: the trailing run
// of good windows (or the missing ones) starts at or before the bound.
func (s *scan) undecided() bool {
	return s.recovered < 0 && s.judged-s.good <= s.bound
}

// blocker returns the window that best explains a failure to recover in
// time: the first bad window among those starting in [bound, bound+hold],
// else the last bad window judged; -1 when every judged window was good.
func (s *scan) blocker() int {
	lo := max(s.bound, 0)
	for k := lo; k <= lo+s.holds && k < s.judged; k++ {
		if !s.j.verdict(k).good {
			return k
		}
	}
	for k := min(s.judged, lo) - 1; k >= 0; k-- {
		if !s.j.verdict(k).good {
			return k
		}
	}
	return -1
}
