# cpu-per-request.gp: server CPU time per request (from /proc/PID/stat) against worker count.
# cpu.dat: workers, then for keep-alive (ka_conns connections) and, if measured (cpu_panels = 2),
# Connection: close (close_conns), (median, min, max) µs/request of ours shared, ours per-core, ours
# per-core reuseport, nginx, ours --accept=thread. workers-info.gp sets pinning and those counts.
load gpdir.'/common.gp'
load datadir.'/workers-info.gp'
d = datadir.'/cpu.dat'
c(panel, server) = 2 + 3*(5*panel + server)
set multiplot layout 1,cpu_panels title sprintf("{/:Bold Server CPU time per request vs workers} (utime+stime of all server threads / requests; %s)\n{/*0.85 %s}", pinning, machine)
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set xlabel 'server workers'
set ylabel 'server CPU µs / request (lower is better)'
set yrange [0:*]
set key top left maxrows 5 samplen 1.5 font ',9'
set offsets 0, 0, graph 0.35, 0
set title sprintf('keep-alive, %d connections', ka_conns)
plot for [s = 0:2] d u 1:(column(c(0, s))):(column(c(0, s)+1)):(column(c(0, s)+2)) w yerrorlines ls (s + 1) \
         t 'async-nostd, '.(s == 0 ? 'shared' : s == 1 ? 'per-core' : 'per-core reuseport'), \
     d u 1:(column(c(0, 3))):(column(c(0, 3)+1)):(column(c(0, 3)+2)) w yerrorlines ls 14 t nginx
if (cpu_panels > 1) {
set title sprintf('Connection: close, %d connections', close_conns)
plot for [s = 0:2] d u 1:(column(c(1, s))):(column(c(1, s)+1)):(column(c(1, s)+2)) w yerrorlines ls (s + 1) \
         t 'async-nostd, '.(s == 0 ? 'shared' : s == 1 ? 'per-core' : 'per-core reuseport'), \
     d u 1:(column(c(1, 3))):(column(c(1, 3)+1)):(column(c(1, 3)+2)) w yerrorlines ls 14 t nginx, \
     d u 1:(column(c(1, 4))):(column(c(1, 4)+1)):(column(c(1, 4)+2)) w yerrorlines lc rgb '#9467bd' lw 2 pt 5 ps 1.1 t 'async-nostd --accept=thread'
}
unset multiplot
