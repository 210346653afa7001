//! Sequence strategy SDK for WebAssembly ABI v1 (see docs/wasm-abi.md in Sequence).
//!
//! Prices and sizes are fixed-point `i64` with 9 decimals (`SCALE` = 1e9): 0.01 is
//! `10_000_000`. Times are nanoseconds since the Unix epoch, UTC. Instruments are numbered
//! in the order of `symbols` in Sequence.toml (then by venue, alphabetically, when a symbol
//! trades on several venues).
//!
//! Implement [`Strategy`] and export it with [`export_strategy!`]. The host calls the
//! callbacks; everything the strategy does goes through the functions of this crate.
#![allow(clippy::missing_safety_doc)]

pub const ABI_VERSION: i32 = 1;
pub const SCALE: i64 = 1_000_000_000;

/// Raw host imports (module "seq"). Prefer the safe wrappers below.
pub mod sys {
    #[link(wasm_import_module = "seq")]
    extern "C" {
        pub fn now() -> i64;
        pub fn place(inst: i32, side: i32, price: i64, size: i64, flags: i32) -> i64;
        pub fn cancel(order_id: i64) -> i32;
        pub fn amend(order_id: i64, price: i64, size: i64) -> i32;
        pub fn book(inst: i32, field: i32) -> i64;
        pub fn position(inst: i32) -> i64;
        pub fn order(order_id: i64, field: i32) -> i64;
        pub fn set_timer(interval_ns: i64);
        pub fn subscribe(mask: i32);
        pub fn log(level: i32, ptr: i32, len: i32);
        pub fn param(ptr: i32, len: i32, default: i64) -> i64;
        pub fn place_for(parent_id: i64, inst: i32, side: i32, price: i64, size: i64, flags: i32) -> i64;
        pub fn parent_done(parent_id: i64) -> i32;
        pub fn mesh_send(peer: i32, ptr: i32, len: i32) -> i32;
        pub fn mesh_read(ptr: i32, cap: i32) -> i32;
        pub fn mesh_self() -> i32;
        pub fn mesh_size() -> i32;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn sign(self) -> i32 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
    pub fn from_sign(s: i32) -> Side {
        if s > 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }
}

/// Order flags for [`place`].
pub const POST_ONLY: i32 = 1;
pub const IOC: i32 = 2;
pub const MARKET: i32 = 4;

/// Why the host refused an order before sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceError {
    UnknownInstrument,
    BadSide,
    BadSize,
    BadPrice,
    TooManyOrders,
    /// Refused by the deployment's risk limits.
    RiskLimit,
    /// `place_for`: the parent is unknown or finished (always, in a backtest).
    NoParent,
    /// `place_for`: another side or book than the parent's, or more than it has left.
    NotInParent,
    Other(i64),
}

fn place_error(code: i64) -> PlaceError {
    match code {
        -1 => PlaceError::UnknownInstrument,
        -2 => PlaceError::BadSide,
        -3 => PlaceError::BadSize,
        -4 => PlaceError::BadPrice,
        -5 => PlaceError::TooManyOrders,
        -6 => PlaceError::RiskLimit,
        -7 => PlaceError::NoParent,
        -8 => PlaceError::NotInParent,
        c => PlaceError::Other(c),
    }
}

/// Local time in nanoseconds (the strategy's clock: feed time plus latency).
pub fn now() -> i64 {
    unsafe { sys::now() }
}

/// Send an order; returns its id. `price` is ignored with [`MARKET`].
pub fn place(inst: i32, side: Side, price: i64, size: i64, flags: i32) -> Result<i64, PlaceError> {
    let id = unsafe { sys::place(inst, side.sign(), price, size, flags) };
    if id > 0 {
        Ok(id)
    } else {
        Err(place_error(id))
    }
}

/// Send an order that works a parent order handed to the strategy (`on_parent`); its fills
/// count towards the parent. Same flags as [`place`].
pub fn place_for(parent_id: i64, inst: i32, side: Side, price: i64, size: i64, flags: i32) -> Result<i64, PlaceError> {
    let id = unsafe { sys::place_for(parent_id, inst, side.sign(), price, size, flags) };
    if id > 0 {
        Ok(id)
    } else {
        Err(place_error(id))
    }
}

/// Finish working a parent: what is unfilled stays unfilled. Cancel its resting children first.
pub fn parent_done(parent_id: i64) -> bool {
    unsafe { sys::parent_done(parent_id) == 0 }
}

/// Send `data` (at most 4096 bytes) to the deployment's instance `peer` (its place in
/// `[[edges]]`), or to every other instance with `peer = -1`. Best effort; false when no such
/// peer is known yet (always, in a backtest) or the message is too large.
pub fn mesh_send(peer: i32, data: &[u8]) -> bool {
    unsafe { sys::mesh_send(peer, data.as_ptr() as i32, data.len() as i32) == 0 }
}

/// This instance's index among the deployment's instances (0 in a backtest).
pub fn mesh_self() -> i32 {
    unsafe { sys::mesh_self() }
}

/// How many instances the deployment has (1 in a backtest).
pub fn mesh_size() -> i32 {
    unsafe { sys::mesh_size() }
}

pub fn buy_limit(inst: i32, price: i64, size: i64) -> Result<i64, PlaceError> {
    place(inst, Side::Buy, price, size, 0)
}

pub fn sell_limit(inst: i32, price: i64, size: i64) -> Result<i64, PlaceError> {
    place(inst, Side::Sell, price, size, 0)
}

/// A maker-only limit order: rejected instead of taking liquidity.
pub fn post_only(inst: i32, side: Side, price: i64, size: i64) -> Result<i64, PlaceError> {
    place(inst, side, price, size, POST_ONLY)
}

/// Ask to cancel; `false` if the order is unknown, done, or already being cancelled.
pub fn cancel(order_id: i64) -> bool {
    unsafe { sys::cancel(order_id) == 0 }
}

/// Ask to change price and size (a price change loses queue priority).
pub fn amend(order_id: i64, price: i64, size: i64) -> bool {
    unsafe { sys::amend(order_id, price, size) == 0 }
}

/// Top of the book as the strategy sees it (0 on an empty side).
#[derive(Clone, Copy, Debug, Default)]
pub struct Top {
    pub bid: i64,
    pub bid_size: i64,
    pub ask: i64,
    pub ask_size: i64,
}

impl Top {
    pub fn is_valid(&self) -> bool {
        self.bid > 0 && self.ask > 0 && self.ask > self.bid
    }
    pub fn mid(&self) -> i64 {
        (self.bid + self.ask) / 2
    }
}

pub fn top(inst: i32) -> Top {
    unsafe {
        Top {
            bid: sys::book(inst, 0),
            bid_size: sys::book(inst, 1),
            ask: sys::book(inst, 2),
            ask_size: sys::book(inst, 3),
        }
    }
}

pub fn tick_size(inst: i32) -> i64 {
    unsafe { sys::book(inst, 4) }
}

pub fn lot_size(inst: i32) -> i64 {
    unsafe { sys::book(inst, 5) }
}

/// Signed position the strategy has been told about (fills received so far).
pub fn position(inst: i32) -> i64 {
    unsafe { sys::position(inst) }
}

/// Order status codes of [`order_status`] and `on_order`.
pub const PENDING: i64 = 1;
pub const OPEN: i64 = 2;
pub const PARTIALLY_FILLED: i64 = 3;
pub const FILLED: i64 = 4;
pub const CANCELED: i64 = 5;
pub const REJECTED: i64 = 6;

/// 0 when the order is unknown (or long done).
pub fn order_status(order_id: i64) -> i64 {
    unsafe { sys::order(order_id, 0) }
}

pub fn order_price(order_id: i64) -> i64 {
    unsafe { sys::order(order_id, 1) }
}

pub fn order_filled(order_id: i64) -> i64 {
    unsafe { sys::order(order_id, 3) }
}

pub fn is_live(order_id: i64) -> bool {
    let s = order_status(order_id);
    s == PENDING || s == OPEN || s == PARTIALLY_FILLED
}

/// Call `on_timer` every `interval_ns` of local time (0 stops the timer).
pub fn set_timer(interval_ns: i64) {
    unsafe { sys::set_timer(interval_ns) }
}

/// Ask for `on_book` (top-of-book changes) and/or `on_trade` (every trade).
pub fn subscribe(book: bool, trades: bool) {
    let mask = (book as i32) | ((trades as i32) << 1);
    unsafe { sys::subscribe(mask) }
}

pub fn log(level: i32, text: &str) {
    unsafe { sys::log(level, text.as_ptr() as i32, text.len() as i32) }
}

pub fn info(text: &str) {
    log(1, text)
}

pub fn warn(text: &str) {
    log(2, text)
}

/// A parameter from `[params]` in Sequence.toml, fixed point (1.5 -> 1_500_000_000).
pub fn param(name: &str, default: i64) -> i64 {
    unsafe { sys::param(name.as_ptr() as i32, name.len() as i32, default) }
}

/// An integer parameter (`[params] levels = 3`).
pub fn param_int(name: &str, default: i64) -> i64 {
    param(name, default * SCALE) / SCALE
}

/// One fill, as `on_fill` receives it.
#[derive(Clone, Copy, Debug)]
pub struct Fill {
    pub order_id: i64,
    pub inst: i32,
    pub side: Side,
    pub price: i64,
    pub size: i64,
    pub maker: bool,
    /// The order has nothing left to fill.
    pub done: bool,
}

/// A strategy: implement the callbacks you need; all default to doing nothing.
pub trait Strategy {
    fn on_start(&mut self) {}
    fn on_book(&mut self, _inst: i32) {}
    fn on_trade(&mut self, _inst: i32, _side: Side, _price: i64, _size: i64) {}
    fn on_fill(&mut self, _fill: &Fill) {}
    fn on_timer(&mut self, _now: i64) {}
    fn on_order(&mut self, _order_id: i64, _event: i32, _status: i64) {}
    fn on_stop(&mut self) {}
    /// A parent order handed to this deployment (exported only with [`export_parent_handler!`]).
    fn on_parent(&mut self, _parent: &Parent) {}
    /// A message from instance `from` of the deployment's mesh.
    fn on_message(&mut self, _from: i32, _data: &[u8]) {}
}

/// A parent order: `size` is what is left to fill; `limit` is 0 for none.
#[derive(Clone, Copy, Debug)]
pub struct Parent {
    pub id: i64,
    pub inst: i32,
    pub side: Side,
    pub size: i64,
    pub limit: i64,
}

/// Take parent orders (after `export_strategy!`, same module): a deployment exporting
/// `on_parent` is handed orders at or above an assignment bundle's edge threshold.
#[macro_export]
macro_rules! export_parent_handler {
    () => {
        #[no_mangle]
        pub extern "C" fn on_parent(id: i64, inst: i32, side: i32, size: i64, limit: i64) -> i32 {
            let parent = $crate::Parent { id, inst, side: $crate::Side::from_sign(side), size, limit };
            $crate::Strategy::on_parent(__seq_strategy(), &parent);
            0
        }
    };
}

/// Export a strategy type: `export_strategy!(MyStrategy, MyStrategy::new());`
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty, $init:expr) => {
        static mut __SEQ_STRATEGY: Option<$ty> = None;

        #[allow(unknown_lints, static_mut_refs)]
        fn __seq_strategy() -> &'static mut $ty {
            unsafe {
                if __SEQ_STRATEGY.is_none() {
                    __SEQ_STRATEGY = Some($init);
                }
                __SEQ_STRATEGY.as_mut().unwrap()
            }
        }

        #[no_mangle]
        pub extern "C" fn seq_abi_version() -> i32 {
            $crate::ABI_VERSION
        }

        #[no_mangle]
        pub extern "C" fn on_start() -> i32 {
            $crate::Strategy::on_start(__seq_strategy());
            0
        }

        #[no_mangle]
        pub extern "C" fn on_book(inst: i32) -> i32 {
            $crate::Strategy::on_book(__seq_strategy(), inst);
            0
        }

        #[no_mangle]
        pub extern "C" fn on_trade(inst: i32, side: i32, price: i64, size: i64) -> i32 {
            $crate::Strategy::on_trade(__seq_strategy(), inst, $crate::Side::from_sign(side), price, size);
            0
        }

        #[no_mangle]
        pub extern "C" fn on_fill(order_id: i64, inst: i32, side: i32, price: i64, size: i64, flags: i32) -> i32 {
            let fill = $crate::Fill {
                order_id,
                inst,
                side: $crate::Side::from_sign(side),
                price,
                size,
                maker: flags & 1 != 0,
                done: flags & 2 != 0,
            };
            $crate::Strategy::on_fill(__seq_strategy(), &fill);
            0
        }

        #[no_mangle]
        pub extern "C" fn on_timer(now: i64) -> i32 {
            $crate::Strategy::on_timer(__seq_strategy(), now);
            0
        }

        #[no_mangle]
        pub extern "C" fn on_order(order_id: i64, event: i32, status: i32) -> i32 {
            $crate::Strategy::on_order(__seq_strategy(), order_id, event, status as i64);
            0
        }

        #[no_mangle]
        pub extern "C" fn on_message(from: i32, len: i32) -> i32 {
            let mut buf = vec![0u8; len.max(0) as usize];
            let n = unsafe { $crate::sys::mesh_read(buf.as_mut_ptr() as i32, len) };
            if n >= 0 {
                buf.truncate(n as usize);
                $crate::Strategy::on_message(__seq_strategy(), from, &buf);
            }
            0
        }

        #[no_mangle]
        pub extern "C" fn on_stop() -> i32 {
            $crate::Strategy::on_stop(__seq_strategy());
            0
        }
    };
}
