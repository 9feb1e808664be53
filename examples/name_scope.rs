//! The seed's `tf.name_scope` demo: `get_variable` ignores name scopes, `tf.Variable` is
//! prefixed by them and always creates, uniquifying its name.
//!
//! ```python
//! with tf.name_scope("a_name_scope"):
//!     initializer = tf.constant_initializer(value=1)
//!     var1 = tf.get_variable(name='var1', shape=[1], dtype=tf.float32, initializer=initializer)
//!     var2 = tf.Variable(name='var2', initial_value=[2], dtype=tf.float32)
//!     var21 = tf.Variable(name='var2', initial_value=[2.1], dtype=tf.float32)
//!     var22 = tf.Variable(name='var2', initial_value=[2.2], dtype=tf.float32)
//! ```
//!
//! Run with `cargo run --example name_scope`.

use scope::{DType, Initializer, Registry, VarSpec, Variable};

fn main() -> Result<(), scope::Error> {
    let reg = Registry::new();
    let (var1, var2, var21, var22) = reg.name_scope("a_name_scope").with(|_| {
        let var1 = reg.get_variable(
            "var1",
            VarSpec::new()
                .shape([1])
                .dtype(DType::F32)
                .initializer(Initializer::Constant(1.0)),
        )?;
        let var2 = Variable::new(&reg, "var2", [2.0f32])?;
        let var21 = Variable::new(&reg, "var2", [2.1f32])?;
        let var22 = Variable::new(&reg, "var2", [2.2f32])?;
        Ok::<_, scope::Error>((var1, var2, var21, var22))
    })?;

    // `Display` prints what TF prints for `var.name` and then `sess.run(var)`.
    for var in [&var1, &var2, &var21, &var22] {
        println!("{var}");
    }
    Ok(())
}
