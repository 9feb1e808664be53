// Names TensorFlow would rename (its uniquifier ignores case) or refuse at build time.
scope::model! {
    pub struct Lin("lin") {
        W: [3, 4],
        w: [4],
        Layer { a: [1] }
        layer { b: [1] }
        #[var(name = "cell/kernel")]
        kernel_override: [2],
        cell { kernel: [2] }
        #[var(name = "v/")]
        v: [1],
    }
}

fn main() {}
