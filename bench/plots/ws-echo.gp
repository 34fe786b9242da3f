# ws-echo.gp: WebSocket echo rate and latency against connection count, ours vs node's ws.
# ws.dat: conns, then for ours and node: msgs/s (k; med,min,max), p50 µs, p99 µs, CPU µs/msg.
load gpdir.'/common.gp'
d = datadir.'/ws.dat'
set multiplot layout 1,2 title sprintf("{/:Bold WebSocket echo} (64-byte text frames, one in flight per connection; 1 worker vs node, pinned)\n{/*0.85 %s}", machine)
set logscale x 10
set xrange [0.7:1500]
set xtics (1, 10, 100, 1000)
set xlabel 'connections'
set title 'messages echoed per second'
set ylabel 'thousand messages / s'
set yrange [0:*]
plot d u 1:2:3:4 w yerrorlines ls 1 t 'async-nostd', d u 1:8:9:10 w yerrorlines ls 11 t 'node ws'
set title 'round-trip latency'
set ylabel 'latency (ms, log scale)'
set logscale y 10
set format y '%g'
set yrange [*:*]
set key top left
plot d u 1:($5/1000.0) w lp ls 1 t 'async-nostd p50', d u 1:($6/1000.0) w lp ls 4 t 'async-nostd p99', \
     d u 1:($11/1000.0) w lp ls 11 t 'node p50', d u 1:($12/1000.0) w lp ls 14 t 'node p99'
unset multiplot
