G=benchmarks/results/round16/grid-batchnorm; S=benchmarks/results/round16/synthetic-batchnorm
M="Linux x86_64 (AMD EPYC, AVX2), 2 CPUs shared, torch 2.13.0+cpu, one torch thread per run"
for t in B-C C-B; do
 if [ $t = B-C ]; then F="$G/B-C $G/B-C-708 $G/B-C-709"; else F="$G/C-B $G/C-B-706"; fi
 .venv/bin/python -m benchmarks.make_reference $F --task $t --date 2026-12-07 --machine "$M" \
  --command "python -m benchmarks.paired_grid --norm batch --task $t --methods source-only,mmd,ida --weights '{\"mmd\": 0.1, \"ida\": 0.1}' --heldout-runs --selection-seed 700 --seeds 701-710 --data-root ../shared/corpora --out $G/$t (seeds split over the folders $(echo $F | sed "s#$G/##g"): $G/README.md)" \
  --note "Round 16: the default BatchNorm backbone (exact statistics, 900 steps, paired dropout), refit on all source speakers; MMD and IDA at the fixed weight 0.1; each adabn row is its seed's source-only network scored with the target's statistics (the adaptation step alone). Held-out source UAR from each method's speaker-fold runs on selection seed 700 (CASIA: leave one speaker out). Seeds 701-710 ($G/README.md)." | tail -1
done
.venv/bin/python -m benchmarks.make_reference $S/synthetic $S/synthetic-702 $S/synthetic-703 --heldout $S/synthetic-selection-heldout.json --task synthetic --date 2026-12-07 --machine "$M" \
  --command "python -m benchmarks.paired_grid --norm batch --task synthetic --methods source-only,mmd,ida --weights '{\"mmd\": 0.1, \"ida\": 0.1}' --heldout-runs --selection-seed 700 --seeds 701-705 --out $S/synthetic (seeds split over the folders synthetic, synthetic-702, synthetic-703: $G/README.md)" \
  --note "Round 16: the embedded synthetic pair (generator version 3: noise relative to the speech level, seed 0) in full mode on the default BatchNorm backbone (900 steps, the shared band), refit on all source speakers; MMD and IDA at the fixed weight 0.1 as in the real grid; each adabn row is its seed's source-only network with the target's statistics; held-out source UAR from each method's two speaker folds on selection seed 700. Seeds 701-705." | tail -1
