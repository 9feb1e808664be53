// Commas rustc marks `Joint` (before punctuation) separate arguments and dimensions too:
// `random_uniform(-1.0,-0.5)` takes its two arguments, and `[n,-1]` is a negative dimension.
scope::model! {
    pub struct Dense("dense", n: usize) {
        w: [n, 2] = random_uniform(-1.0,-0.5),
        b: [n,-1],
    }
}

fn main() {}
