/* LSTM cell kernels: one call per time step turns the step's pre-activations into gate values and the new
   cell, output and state (forward), or the gate gradients (backward). Called from ember/kernels/rnn_cell.py;
   each loop performs the float32 operations of ember/ops/recurrent.py's NumPy step in the same order, with the
   shared header's rational tanh. */
#include "ember_kernels.h"
#include "rnn_cell.h"

static inline float ember_sigmoidf(float v) {
    float s = v * 0.5f;
    s = ember_tanhf(s);
    s = s * 0.5f;
    return s + 0.5f;
}

static void ember_lstm_forward_row(float* restrict gi, float* restrict gf, float* restrict gg, float* restrict go,
                                   const float* restrict cp, float* restrict cell, float* restrict tanh_c,
                                   float* restrict out, float* restrict h, float* restrict c, long hidden) {
    for (long j = 0; j < hidden; j++) {
        float candidate = ember_tanhf(gg[j]);
        float i = ember_sigmoidf(gi[j]);
        float f = ember_sigmoidf(gf[j]);
        float o = ember_sigmoidf(go[j]);
        gi[j] = i; gf[j] = f; gg[j] = candidate; go[j] = o;
        float cn = f * cp[j];
        float added = i * candidate;
        cn = cn + added;
        cell[j] = cn;
        float tc = ember_tanhf(cn);
        tanh_c[j] = tc;
        float hn = o * tc;
        out[j] = hn;
        h[j] = hn;
        c[j] = cn;
    }
}

void ember_lstm_forward(float* g, long g_row, const float* cp, long cp_row, float* cell, long cell_row,
                        float* tanh_c, long tc_row, float* out, long out_row, float* h, float* c,
                        long batch, long hidden) {
    for (long b = 0; b < batch; b++) {
        float* gi = g + b * g_row;
        ember_lstm_forward_row(gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, cp + b * cp_row, cell + b * cell_row,
                               tanh_c + b * tc_row, out + b * out_row, h + b * hidden, c + b * hidden, hidden);
    }
}

static void ember_lstm_backward_row(const float* restrict gi, const float* restrict gf, const float* restrict gg,
                                    const float* restrict go, const float* restrict dht, const float* restrict tanh_c,
                                    const float* restrict cp, float* restrict dgi, float* restrict dgf,
                                    float* restrict dgg, float* restrict dgo, float* restrict dc, long hidden) {
    for (long j = 0; j < hidden; j++) {
        float i = gi[j], f = gf[j], candidate = gg[j], o = go[j];
        float d = dht[j], tc = tanh_c[j];
        float d_o = d * tc;
        float dct = tc * tc;
        dct = 1.0f - dct;
        dct = dct * o;
        dct = dct * d;
        dct = dct + dc[j];
        float d_i = dct * candidate;
        float d_f = dct * cp[j];
        float d_g = dct * i;
        dc[j] = dct * f;
        float slope = candidate * candidate;
        slope = 1.0f - slope;
        d_g = d_g * slope;
        float si = 1.0f - i;
        si = i * si;
        d_i = d_i * si;
        float sf = 1.0f - f;
        sf = f * sf;
        d_f = d_f * sf;
        float so = 1.0f - o;
        so = o * so;
        d_o = d_o * so;
        dgi[j] = d_i; dgf[j] = d_f; dgg[j] = d_g; dgo[j] = d_o;
    }
}

void ember_lstm_backward(const float* dht, long dht_row, const float* g, long g_row, const float* tanh_c,
                         long tc_row, const float* cp, long cp_row, float* dg, long dg_row, float* dc,
                         long batch, long hidden) {
    for (long b = 0; b < batch; b++) {
        const float* gi = g + b * g_row;
        float* dgi = dg + b * dg_row;
        ember_lstm_backward_row(gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, dht + b * dht_row,
                                tanh_c + b * tc_row, cp + b * cp_row, dgi, dgi + hidden, dgi + 2 * hidden,
                                dgi + 3 * hidden, dc + b * hidden, hidden);
    }
}
