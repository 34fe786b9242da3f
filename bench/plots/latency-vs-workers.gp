# latency-vs-workers.gp: wrk's latency percentiles against worker count, keep-alive (ka_conns connections).
# latency.dat: workers, ours p50 p90 p99 p99.9, nginx p50 p90 p99 p99.9 (µs, medians of the runs); drawn in ms.
load gpdir.'/common.gp'
load datadir.'/workers-info.gp'
d = datadir.'/latency.dat'
set title sprintf("{/:Bold Latency percentiles vs workers} (/plaintext keep-alive, %d connections, %s; medians)\n{/*0.85 %s}", ka_conns, pinning, machine)
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set logscale y 10
set format y '%g'
set xlabel 'server workers'
set ylabel 'latency (ms, log scale)'
set key outside right top
plot d u 1:($2/1000.0) w lp ls 1 t 'async-nostd (shared) p50', d u 1:($3/1000.0) w lp ls 2 t 'async-nostd p90', d u 1:($4/1000.0) w lp ls 3 t 'async-nostd p99', \
     d u 1:($5/1000.0) w lp ls 4 t 'async-nostd p99.9', \
     d u 1:($6/1000.0) w lp ls 11 t nginx.' p50', d u 1:($7/1000.0) w lp ls 12 t nginx.' p90', d u 1:($8/1000.0) w lp ls 13 t nginx.' p99', \
     d u 1:($9/1000.0) w lp ls 14 t nginx.' p99.9'
