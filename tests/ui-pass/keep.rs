//! Models that keep their build arguments: a config that is neither `Clone` nor `Copy`
//! (moved in after the parts that borrow it), a tuple, and a `Copy` count, in both macros.

use scope::{model, variable_scope, Model, Registry, Variable};

/// A config without `Clone`.
#[derive(Debug)]
pub struct Config {
    pub width: usize,
    pub blocks: usize,
}

model! {
    pub struct Block("block", width: usize) {
        w: [width],
    }

    pub struct Net("net", cfg: Config, pair: (usize, String), n: usize) {
        #[keep]
        cfg,
        #[keep]
        pair,
        /// Kept even though a part took a copy of it.
        #[keep]
        n,
        #[model(repeat = cfg.blocks, scope = "h{i}")]
        h: model Block(cfg.width),
        #[model(args(n))]
        last: model Block,
        w: [pair.0],
    }
}

#[variable_scope("net", cfg: Config)]
pub struct NetAttr {
    #[keep]
    pub cfg: Config,
    #[var(shape = [cfg.width])]
    pub b: Variable,
}

impl Net {
    /// A forward pass that needs no config: the model has the one it was built with.
    fn width(&self) -> usize {
        self.cfg.width
    }
}

fn main() {
    let reg = Registry::new();
    let cfg = Config {
        width: 2,
        blocks: 3,
    };
    let net = Net::new(&reg, cfg, (4, "x".to_owned()), 5).unwrap();
    assert_eq!(net.width(), 2);
    assert_eq!((net.pair.0, net.n), (4, 5));
    assert_eq!(net.h[2].scope_name(), "net/h2");
    let attr = NetAttr::new(
        &Registry::new(),
        Config {
            width: 7,
            blocks: 0,
        },
    )
    .unwrap();
    assert_eq!(attr.cfg.width, 7);
    println!("{net:?}");
}
