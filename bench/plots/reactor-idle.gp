# reactor-idle.gp: epoll vs ppoll vs io_uring reactor (and nginx) as idle connections are added.
# reactor.dat: idle, then for epoll, ppoll, nginx, io_uring: req/s (k; med,min,max), CPU µs/req (med,min,max).
load gpdir.'/common.gp'
d = datadir.'/reactor.dat'
r(i) = 2 + 6*i
u(i) = 5 + 6*i
set multiplot layout 1,2 title sprintf("{/:Bold Reactor backends vs idle connections} (1 worker, pinned, 100 busy keep-alive conns + idle ones)\n{/*0.85 %s}", machine)
set xlabel 'idle connections held open'
set xrange [-300:5300]
set xtics (0, 1000, 2000, 3000, 4000, 5000)
set yrange [0:*]
set ylabel 'thousand requests / s'
set title 'throughput'
set key bottom left
plot d u 1:(column(r(0))):(column(r(0)+1)):(column(r(0)+2)) w yerrorlines ls 1 t 'async-nostd, epoll', \
     d u 1:(column(r(1))):(column(r(1)+1)):(column(r(1)+2)) w yerrorlines ls 4 t 'async-nostd, ppoll', \
     d u 1:(column(r(2))):(column(r(2)+1)):(column(r(2)+2)) w yerrorlines ls 13 t nginx.' (epoll)', \
     d u 1:(column(r(3))):(column(r(3)+1)):(column(r(3)+2)) w yerrorlines ls 2 t 'async-nostd, io\_uring'
set ylabel 'server CPU µs / request'
set title 'cost per request'
set key top left
plot d u 1:(column(u(0))):(column(u(0)+1)):(column(u(0)+2)) w yerrorlines ls 1 t 'async-nostd, epoll', \
     d u 1:(column(u(1))):(column(u(1)+1)):(column(u(1)+2)) w yerrorlines ls 4 t 'async-nostd, ppoll', \
     d u 1:(column(u(2))):(column(u(2)+1)):(column(u(2)+2)) w yerrorlines ls 13 t nginx.' (epoll)', \
     d u 1:(column(u(3))):(column(u(3)+1)):(column(u(3)+2)) w yerrorlines ls 2 t 'async-nostd, io\_uring'
unset multiplot
