//! A name override may reach into a sub-scope, as `tf.get_variable("cell/bias")` does, as
//! long as no other variable has that full name; names that differ beyond case are distinct.
#![deny(warnings)]

scope::model! {
    /// Names across scopes.
    pub struct Lin("lin") {
        #[var(name = "cell/bias")]
        bias: [2],
        cell { kernel: [2] }
        w: [1],
        w_big: [1],
    }
}

fn main() {
    let reg = scope::Registry::new();
    let lin = Lin::new(&reg).expect("builds");
    assert_eq!(lin.bias.name(), "lin/cell/bias");
    assert_eq!(lin.cell_kernel.name(), "lin/cell/kernel");
}
