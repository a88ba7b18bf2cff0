/* The LSTM cell kernels rnn_cell.c defines: the declarations ember/kernels/loader.py hands to cffi (no include
   guard or #include: cffi parses this file as it is). */
void ember_lstm_forward(float* g, long g_row, const float* cp, long cp_row, float* cell, long cell_row,
                        float* tanh_c, long tc_row, float* out, long out_row, float* h, float* c,
                        long batch, long hidden);
void ember_lstm_backward(const float* dht, long dht_row, const float* g, long g_row, const float* tanh_c,
                         long tc_row, const float* cp, long cp_row, float* dg, long dg_row, float* dc,
                         long batch, long hidden);
