//! A small market maker: quotes one post-only bid and ask around the touch, skews away from
//! its inventory, re-quotes when the book moves, and cancels everything on stop.
use sequence_sdk::{self as seq, export_strategy, Fill, Side, Strategy};

struct MarketMaker {
    inst: i32,
    half_spread_ticks: i64,
    order_size: i64,
    max_position: i64,
    requote_ticks: i64,
    bid: i64, // live order ids (0 = none)
    ask: i64,
    fills: u64,
}

impl MarketMaker {
    fn new() -> Self {
        MarketMaker { inst: 0, half_spread_ticks: 1, order_size: 0, max_position: 0, requote_ticks: 2, bid: 0, ask: 0, fills: 0 }
    }

    fn quote(&mut self, side: Side, target: i64, allowed: bool) {
        let live = if side == Side::Buy { self.bid } else { self.ask };
        if live != 0 && !seq::is_live(live) {
            self.set(side, 0);
        }
        let live = if side == Side::Buy { self.bid } else { self.ask };
        if live != 0 {
            let off = (seq::order_price(live) - target).abs() / seq::tick_size(self.inst).max(1);
            if !allowed || off > self.requote_ticks {
                seq::cancel(live);
                self.set(side, 0);
            }
            return;
        }
        if allowed {
            if let Ok(id) = seq::post_only(self.inst, side, target, self.order_size) {
                self.set(side, id);
            }
        }
    }

    fn set(&mut self, side: Side, id: i64) {
        if side == Side::Buy {
            self.bid = id
        } else {
            self.ask = id
        }
    }
}

impl Strategy for MarketMaker {
    fn on_start(&mut self) {
        self.half_spread_ticks = seq::param_int("half_spread_ticks", 1);
        self.order_size = seq::param("order_size", seq::SCALE / 1000);
        self.max_position = seq::param("max_position", 5 * seq::SCALE / 1000);
        self.requote_ticks = seq::param_int("requote_ticks", 2);
        seq::set_timer(seq::param_int("interval_ms", 100) * 1_000_000);
        seq::info("market maker started");
    }

    fn on_timer(&mut self, _now: i64) {
        let top = seq::top(self.inst);
        if !top.is_valid() {
            return;
        }
        let tick = seq::tick_size(self.inst);
        let pos = seq::position(self.inst);
        // lean away from inventory: one extra tick on the side that would add to it
        let skew_bid = if pos > 0 { tick } else { 0 };
        let skew_ask = if pos < 0 { tick } else { 0 };
        let bid = top.bid - self.half_spread_ticks * tick + tick - skew_bid;
        let ask = top.ask + self.half_spread_ticks * tick - tick + skew_ask;
        self.quote(Side::Buy, bid, pos + self.order_size <= self.max_position);
        self.quote(Side::Sell, ask, pos - self.order_size >= -self.max_position);
    }

    fn on_fill(&mut self, fill: &Fill) {
        self.fills += 1;
        if fill.done {
            if fill.order_id == self.bid {
                self.bid = 0;
            }
            if fill.order_id == self.ask {
                self.ask = 0;
            }
        }
    }

    fn on_stop(&mut self) {
        // stopping does not cancel resting orders by itself: the strategy does it here
        for id in [self.bid, self.ask] {
            if id != 0 {
                seq::cancel(id);
            }
        }
        seq::info(&format!("stopped after {} fills", self.fills));
    }
}

export_strategy!(MarketMaker, MarketMaker::new());
