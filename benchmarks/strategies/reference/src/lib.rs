//! The reference strategy of shared/bench/bench_hbt.py: every 100 ms keep one post-only buy
//! of 0.01 at best bid - 1 tick; when it is more than 5 ticks from that target, cancel it and
//! send a new one at once (an order being cancelled no longer counts as the resting bid).
use sequence_sdk::{self as seq, export_strategy, Fill, Strategy};

struct Reference {
    requote_ticks: i64,
    size: i64,
    live: i64, // our resting (or pending) bid, 0 = none
    submits: i64,
    cancels: i64,
}

impl Strategy for Reference {
    fn on_start(&mut self) {
        self.requote_ticks = seq::param_int("requote_ticks", 5);
        self.size = seq::param("order_size", seq::SCALE / 100);
        seq::set_timer(seq::param_int("interval_ms", 100) * 1_000_000);
    }

    fn on_timer(&mut self, _now: i64) {
        let top = seq::top(0);
        if !top.is_valid() {
            return;
        }
        let tick = seq::tick_size(0);
        let target = top.bid - tick;
        if self.live != 0 && !seq::is_live(self.live) {
            self.live = 0;
        }
        if self.live != 0 {
            let status = seq::order_status(self.live);
            // only an acknowledged order can be cancelled (as hftbacktest's `cancellable`)
            if status != seq::PENDING && (seq::order_price(self.live) - target).abs() > self.requote_ticks * tick {
                seq::cancel(self.live);
                self.cancels += 1;
                self.live = 0;
            }
        }
        if self.live == 0 {
            if let Ok(id) = seq::post_only(0, seq::Side::Buy, target, self.size) {
                self.live = id;
                self.submits += 1;
            }
        }
    }

    fn on_fill(&mut self, fill: &Fill) {
        if fill.done && fill.order_id == self.live {
            self.live = 0;
        }
    }

    fn on_stop(&mut self) {
        seq::info(&format!("submits {} cancels {}", self.submits, self.cancels));
    }
}

export_strategy!(Reference, Reference { requote_ticks: 5, size: 0, live: 0, submits: 0, cancels: 0 });
