// Initializers a variable's declared dtype cannot hold, refused at compile time.
scope::model! {
    pub struct Clash("clash") {
        a: i32[2] = constant(0.5),
        b: bool[1] = random_normal(0.0, 1.0),
        c: i64[2, 2] = glorot_uniform,
        d: bool[1] = constant(1),
        #[var(dtype = i32, init = truncated_normal(0.0, 1.0))]
        e: [1],
    }
}

const NOT_A_NUMBER: &str = "one";

scope::model! {
    pub struct Text("text") {
        f: [1] = constant(NOT_A_NUMBER),
    }
}

fn main() {}
