# latency-openloop.gp: open-loop latency percentiles against the offered rate (the hockey stick).
# latency-openloop.dat: offered k req/s, ours p50 p99 p99.9 (µs) answered k/s, nginx p50 p99 p99.9 answered k/s.
load gpdir.'/common.gp'
d = datadir.'/latency-openloop.dat'
set title sprintf("{/:Bold Open-loop latency vs offered load} (/plaintext keep-alive, 1 worker, pinned; from the intended send time)\n{/*0.85 %s}", machine)
set logscale y 10
set format y '%g'
set xlabel 'offered load (thousand requests per second)'
set ylabel 'latency (ms, log scale)'
set key outside right top
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#888888' dt 3
set arrow from graph 0, first 10 to graph 1, first 10 nohead lc rgb '#888888' dt 3
plot d u 1:($2/1000.0) w lp ls 1 t 'async-nostd p50', d u 1:($3/1000.0) w lp ls 3 t 'async-nostd p99', \
     d u 1:($4/1000.0) w lp ls 4 t 'async-nostd p99.9', \
     d u 1:($6/1000.0) w lp ls 11 t nginx.' p50', d u 1:($7/1000.0) w lp ls 13 t nginx.' p99', \
     d u 1:($8/1000.0) w lp ls 14 t nginx.' p99.9'
