# cpu-per-request.gp: server CPU time per request (from /proc/PID/stat) against worker count.
# cpu.dat: workers, then (median, min, max) µs/request for ours-ka, nginx-ka, ours-close, nginx-close,
# ours-thread-close (--accept=thread).
load gpdir.'/common.gp'
d = datadir.'/cpu.dat'
c(i) = 2 + 3*i
set title sprintf("{/:Bold Server CPU time per request vs workers} (utime+stime of all server threads / requests; 100 conns, unpinned)\n{/*0.85 %s}", machine)
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set xlabel 'server workers'
set ylabel 'server CPU µs / request (lower is better)'
set yrange [0:*]
set key outside right top
plot d u 1:(column(c(0))):(column(c(0)+1)):(column(c(0)+2)) w yerrorlines ls 1 t 'async-nostd, keep-alive', \
     d u 1:(column(c(1))):(column(c(1)+1)):(column(c(1)+2)) w yerrorlines ls 11 t nginx.', keep-alive', \
     d u 1:(column(c(2))):(column(c(2)+1)):(column(c(2)+2)) w yerrorlines ls 4 t 'async-nostd (workers accept), close', \
     d u 1:(column(c(3))):(column(c(3)+1)):(column(c(3)+2)) w yerrorlines ls 14 t nginx.', close', \
     d u 1:(column(c(4))):(column(c(4)+1)):(column(c(4)+2)) w yerrorlines lc rgb '#9467bd' lw 2 pt 5 ps 1.1 t 'async-nostd --accept=thread, close'
