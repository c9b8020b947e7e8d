int ckernels_placeholder(void);
