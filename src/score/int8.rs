//! int8 matrix products for `--precision int8`: libtorch's fbgemm kernels (VNNI on CPUs that
//! have it) with one scale per output channel, and weights kept to a range no kernel saturates.
//!
//! libtorch's dynamic int8 linear (`fbgemm_linear_int8_weight_fp32_activation`) quantises the
//! activations per batch and takes one scale for the whole weight. One scale per weight is what
//! made PyTorch's `quantize_dynamic` drift from fp32 (mean embedding cosine 0.929, with its 7-bit
//! activations; 0.978 at 8 bits; bench/int8_probe.py): a few rows with large weights set the
//! scale, and every other row keeps only a few levels. Here each row is divided by its own
//! largest magnitude before quantising, and the product's column is multiplied back afterwards,
//! which is exactly per-channel quantisation through the per-tensor kernel (cosine 0.992).
//!
//! **Why 7-bit weights.** fbgemm quantises the activations to u8 (0…255). With VNNI it sums
//! u8 × s8 products in 32 bits; without it (AVX2, and AVX-512 without VNNI) it uses
//! `vpmaddubsw`, which adds each *pair* of products in 16 bits and saturates at 32,767. With
//! 8-bit weights (±127) a pair reaches 2 · 255 · 127 = 64,770, and on AVX2 the products came out
//! 15 % wrong (issue 41). Weights in ±[`Q_MAX`] bound a pair by 2 · 255 · 64 = 32,640, so no
//! kernel saturates and every CPU computes the same integers: `--precision int8` gives the
//! same scores on an AVX2 laptop as on a VNNI server. `FBGEMM_ENABLE_INSTRUCTIONS=AVX2` makes
//! fbgemm take its AVX2 kernels on a larger CPU; `scripts/test` reruns these tests that way.

use tch::{Kind, Tensor};

/// Largest quantised weight magnitude: `2 · 255 · Q_MAX` must stay ≤ 32,767 (see the top).
pub(crate) const Q_MAX: f64 = 64.0;

/// What `--precision int8` computes on this CPU, for `threadlens models`: which fbgemm kernel
/// runs (as fbgemm chooses it: VNNI where the CPU has it, unless `FBGEMM_ENABLE_INSTRUCTIONS`
/// caps it) and that its results do not depend on that choice.
pub fn describe() -> String {
    let capped = std::env::var("FBGEMM_ENABLE_INSTRUCTIONS")
        .map(|v| {
            matches!(
                v.to_ascii_uppercase().as_str(),
                "AVX2" | "AVX512" | "AVX512_256"
            )
        })
        .unwrap_or(false);
    let kernel = if cpu_has_vnni() && !capped {
        "AVX-512 VNNI kernels (32-bit sums)"
    } else {
        "16-bit pair sums (AVX2 / AVX-512 without VNNI)"
    };
    format!(
        "fbgemm's {kernel}; 7-bit weights (±{Q_MAX}) never saturate, so int8 scores are the \
         same on every CPU class; not faithful to fp32 (label agreement in docs/performance.md)"
    )
}

/// Whether the CPU has AVX-512 VNNI, which fbgemm's int8 kernels use where present.
fn cpu_has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One linear map's weights in int8 with a scale per output channel.
pub(crate) struct Int8Linear {
    /// Quantised rows, `round(Q_MAX · W[i] / max|W[i]|)`, (out, in), int8.
    q: Tensor,
    /// fbgemm's packed form of `q`.
    packed: Tensor,
    /// Row sums of `q` (int32), which fbgemm uses to remove the activations' zero point.
    col_offsets: Tensor,
    /// `max|W[i]| / Q_MAX` per output channel (fp32).
    scale: Tensor,
    bias: Tensor,
    zero_bias: Tensor,
}

impl Int8Linear {
    /// Quantises an fp32 (or any float) weight `w` (out × in) with its bias, and runs it once
    /// on a tiny input: libtorch marks these kernels deprecated and says so on stderr the
    /// first time each runs, which is muted here (the kernels are in every 2.x release).
    pub(crate) fn new(w: &Tensor, b: &Tensor) -> Result<Int8Linear, tch::TchError> {
        quiet_stderr(|| Int8Linear::quantise(w, b))
    }

    fn quantise(w: &Tensor, b: &Tensor) -> Result<Int8Linear, tch::TchError> {
        let w = w.to_kind(Kind::Float).contiguous();
        let amax = w.abs().amax([1].as_slice(), true).clamp_min(1e-8);
        let q = (&w / &amax * Q_MAX)
            .round()
            .clamp(-Q_MAX, Q_MAX)
            .to_kind(Kind::Int8)
            .contiguous();
        let col_offsets = q.sum_dim_intlist([1].as_slice(), false, Kind::Int);
        let packed = q.f_fbgemm_pack_quantized_matrix()?;
        let bias = b.to_kind(Kind::Float).contiguous();
        let lin = Int8Linear {
            zero_bias: bias.zeros_like(),
            scale: (amax / Q_MAX).squeeze_dim(1),
            q,
            packed,
            col_offsets,
            bias,
        };
        let _ = lin.apply(&Tensor::zeros([1, w.size()[1]], (Kind::Float, w.device())))?;
        Ok(lin)
    }

    /// `x·Wᵀ + b` for an fp32 `x` of any leading shape; the result is fp32.
    pub(crate) fn apply(&self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        let y = x
            .to_kind(Kind::Float)
            .contiguous()
            .f_fbgemm_linear_int8_weight_fp32_activation(
                &self.q,
                &self.packed,
                &self.col_offsets,
                tch::Scalar::float(1.0),
                tch::Scalar::int(0),
                &self.zero_bias,
            )?;
        self.bias.f_addcmul(&y, &self.scale)
    }
}

/// Runs `f` with file descriptor 2 pointed at /dev/null (libtorch writes its warnings there
/// directly, past Rust's stderr).
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return f();
        };
        // SAFETY: dup/dup2/close on descriptors this function owns or restores before returning.
        let saved = unsafe { libc::dup(2) };
        if saved < 0 {
            return f();
        }
        unsafe { libc::dup2(null.as_raw_fd(), 2) };
        let out = f();
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
        out
    }
    #[cfg(not(unix))]
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normal draws from a seed of their own (libtorch's generator is shared by the tests that
    /// run at once, so `manual_seed` would not fix the data).
    fn randn(shape: [i64; 2], seed: u64) -> Tensor {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uniform = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let v: Vec<f32> = (0..shape[0] * shape[1])
            .map(|_| {
                let (u, v) = (uniform(), uniform());
                ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
            })
            .collect();
        Tensor::from_slice(&v).reshape(shape)
    }

    fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
        let d = (a - b).norm().double_value(&[]);
        d / b.norm().double_value(&[])
    }

    #[test]
    fn int8_linear_matches_fp32_closely_and_keeps_shapes() {
        let w = randn([48, 32], 7) * 0.05;
        let b = randn([1, 48], 8).reshape([48]);
        let x = randn([15, 32], 9).reshape([3, 5, 32]);
        let want = x.linear(&w, Some(&b));
        let got = Int8Linear::new(&w, &b).unwrap().apply(&x).unwrap();
        assert_eq!(got.size(), vec![3, 5, 48]);
        let e = rel_err(&got, &want);
        assert!(e < 0.02, "relative error {e}");
    }

    /// These tests assert the same bounds on every CPU class: `scripts/test` runs them once
    /// as the CPU is and once with `FBGEMM_ENABLE_INSTRUCTIONS=AVX2`, which makes fbgemm take
    /// the 16-bit pair-sum kernels of AVX2-only CPUs. With 8-bit weights, on those kernels
    /// (`AVX2`, and `AVX512` without VNNI) this test's error was 0.062 and the next one's
    /// 0.49; with 7-bit weights they are 0.0147 and 0 on every kernel, to the last bit.
    #[test]
    fn per_channel_scales_keep_small_rows_faithful() {
        // One row 1,000 times larger than the rest: with one scale for the whole weight the
        // small rows would round to a handful of levels; per channel they keep 7 bits.
        let w = randn([16, 64], 11) * 0.01;
        let _ = w.get(0).g_mul_scalar_(1000.0);
        let b = Tensor::zeros([16], (Kind::Float, tch::Device::Cpu));
        let x = randn([8, 64], 12);
        let want = x.linear(&w, Some(&b)).narrow(1, 1, 15);
        let got = Int8Linear::new(&w, &b)
            .unwrap()
            .apply(&x)
            .unwrap()
            .narrow(1, 1, 15);
        let e = rel_err(&got, &want);
        assert!(e < 0.02, "small rows' relative error {e}");
    }

    #[test]
    fn the_largest_products_do_not_saturate() {
        // Inputs on the quantisation grid, so int8 is exact where no sum saturates: every
        // activation quantises to 255 and every weight to ±Q_MAX, the largest pair sums any
        // input can make. Rows of one sign, of alternating signs, and with a single large
        // weight. Where pairs saturated at 16 bits (AVX2 with 8-bit weights) the first row
        // came out at half its value.
        let k = 64;
        let x = Tensor::ones([4, k], (Kind::Float, tch::Device::Cpu)) * 2.0;
        let alt: Vec<f32> = (0..k)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let mut one = vec![0.0f32; k as usize];
        one[3] = -0.25;
        let w = Tensor::stack(
            &[
                Tensor::full([k], 0.5, (Kind::Float, tch::Device::Cpu)),
                Tensor::full([k], -0.5, (Kind::Float, tch::Device::Cpu)),
                Tensor::from_slice(&alt),
                Tensor::from_slice(&one),
            ],
            0,
        );
        let b = Tensor::from_slice(&[1.0f32, 0.0, -1.0, 0.5]);
        let want = x.linear(&w, Some(&b));
        let got = Int8Linear::new(&w, &b).unwrap().apply(&x).unwrap();
        let e = rel_err(&got, &want);
        assert!(e < 1e-5, "relative error {e}: got {got:?}, want {want:?}");
    }
}
