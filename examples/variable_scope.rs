//! The seed's `tf.variable_scope` demo: the scope prefixes both kinds of variable;
//! after `reuse_variables()`, `get_variable` returns the existing variable, while
//! `tf.Variable` still creates a new, uniquified one.
//!
//! ```python
//! with tf.variable_scope("a_variable_scope") as scope:
//!     initializer = tf.constant_initializer(value=3)
//!     var3 = tf.get_variable(name='var3', shape=[1], dtype=tf.float32, initializer=initializer)
//!     scope.reuse_variables()
//!     var3_reuse = tf.get_variable(name='var3',)
//!     var4 = tf.Variable(name='var4', initial_value=[4], dtype=tf.float32)
//!     var4_reuse = tf.Variable(name='var4', initial_value=[4], dtype=tf.float32)
//! ```
//!
//! Run with `cargo run --example variable_scope`.

use scope::{DType, Initializer, Registry, VarSpec, Variable};

fn main() -> Result<(), scope::Error> {
    let reg = Registry::new();
    let scope = reg.variable_scope("a_variable_scope").enter()?;
    let var3 = reg.get_variable(
        "var3",
        VarSpec::new()
            .shape([1])
            .dtype(DType::F32)
            .initializer(Initializer::Constant(3.0)),
    )?;
    scope.reuse_variables();
    let var3_reuse = reg.get_variable("var3", VarSpec::new())?;
    let var4 = Variable::new(&reg, "var4", [4.0f32])?;
    let var4_reuse = Variable::new(&reg, "var4", [4.0f32])?;
    drop(scope);

    println!("{var3}");
    println!("{var3_reuse}");
    println!("{var4}");
    println!("{var4_reuse}");

    // The reused handle is the same storage: a write through one is seen by the other.
    var3.assign([30.0f32])?;
    println!(
        "var3 and var3_reuse share storage: {} (var3_reuse now reads {})",
        var3.ptr_eq(&var3_reuse),
        *var3_reuse.read()
    );
    var3.assign([3.0f32])?;
    Ok(())
}
