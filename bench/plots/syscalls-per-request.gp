# syscalls-per-request.gp: system calls per keep-alive request (all server threads) for each reactor and nginx.
# syscalls.dat: connections, then (median, min, max) syscalls/request for epoll, ppoll, io_uring, nginx.
load gpdir.'/common.gp'
d = datadir.'/syscalls.dat'
c(i) = 2 + 3*i
set title sprintf("{/:Bold System calls per keep-alive request} (all server threads, perf raw\\_syscalls:sys\\_enter; 1 worker, pinned)\n{/*0.85 %s}", machine)
set logscale x 10
set logscale y 10
set xrange [0.6:1700]
set xtics (1, 10, 100, 1000)
set xlabel 'keep-alive connections'
set ylabel 'system calls / request (lower is better)'
set yrange [0.05:*]
set key outside right top
# The summary's io_uring target (bench/report.py, syscalls_section): keep the two in step.
target = 0.3
set arrow from 0.6,target to 1700,target nohead lc rgb '#888888' dt 3
set label sprintf('target %g (io\_uring, 100 conns)', target) at 1.2,target*1.15 tc rgb '#666666'
plot d u 1:(column(c(0))):(column(c(0)+1)):(column(c(0)+2)) w yerrorlines ls 1 t 'async-nostd, epoll', \
     d u 1:(column(c(1))):(column(c(1)+1)):(column(c(1)+2)) w yerrorlines ls 4 t 'async-nostd, ppoll', \
     d u 1:(column(c(2))):(column(c(2)+1)):(column(c(2)+2)) w yerrorlines ls 2 t 'async-nostd, io\_uring', \
     d u 1:(column(c(3))):(column(c(3)+1)):(column(c(3)+2)) w yerrorlines ls 13 t nginx
