use scope::{model, Variable};

model! {
    /// A layer.
    pub struct Dense("dense", inputs: usize, units: usize) {
        kernel: [inputs, units] = truncated_normal(0.0, 0.02),
        bias: [units] = zeros,
    }

    /// Every form of issue #10.
    pub struct Encoder("bert", n: usize, width: usize, flag: bool, range: f32, table: Variable) {
        #[scope(name = "self")]
        self_attn {
            #[model(default_name = "query")] query: model Dense(width, width),
        }
        #[model(repeat = n)]
        layer: model Dense(width, width),
        #[model(default_name, when = flag)]
        pooler: model Dense(width, width),
        #[var(when = flag)]
        token_type: [2, width] = truncated_normal(0.0, range),
        #[var(tied = table)]
        output_weights: [7, width],
    }
}

fn main() {}
