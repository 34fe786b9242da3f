# pipelined.gp: req/s and server CPU µs/request by pipelining depth, one line per server, one row per connection count.
# pipelined.dat: one block per connection count (index i); per line the depth, then for each server
# (ours epoll, ppoll, io_uring, nginx, h2o file, h2o mruby, floor-epoll, floor-io_uring):
# thousand req/s (med,min,max), CPU µs/request (med,min,max). pipelined-conns.gp sets conns.
load gpdir.'/common.gp'
load datadir.'/pipelined-conns.gp'
d = datadir.'/pipelined.dat'
rows = words(conns)
if (fmt eq 'svg') {
    set terminal svg size 1200,(200 + 330*rows) dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size 1200,(200 + 330*rows) enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
r(i) = 2 + 6*i
u(i) = 5 + 6*i
set style line 21 lc rgb '#9467bd' lw 2 pt 6 ps 1.1 dt 2
set style line 22 lc rgb '#8c564b' lw 2 pt 4 ps 1.1 dt 2
set style line 23 lc rgb '#7f7f7f' lw 1.5 pt 2 ps 1 dt 3
set style line 24 lc rgb '#bcbd22' lw 1.5 pt 3 ps 1 dt 3
set logscale x 2
set xrange [0.8:20]
set xtics (1, 4, 16)
set logscale y 10
set xlabel 'requests pipelined per connection (depth)'
set key outside right top samplen 2
set multiplot layout rows,2 title sprintf("{/:Bold Pipelined /plaintext} (1 worker, pinned to CPU 0; bench/pipeline\\_load on CPU 1)\n{/*0.85 %s}", machine)
do for [i=0:rows-1] {
    set title sprintf('throughput, %s connections', word(conns, i+1))
    set ylabel 'thousand requests / s'
    unset key
    plot d index i u 1:(column(r(0))):(column(r(0)+1)):(column(r(0)+2)) w yerrorlines ls 1, \
         d index i u 1:(column(r(1))):(column(r(1)+1)):(column(r(1)+2)) w yerrorlines ls 4, \
         d index i u 1:(column(r(2))):(column(r(2)+1)):(column(r(2)+2)) w yerrorlines ls 2, \
         d index i u 1:(column(r(3))):(column(r(3)+1)):(column(r(3)+2)) w yerrorlines ls 13, \
         d index i u 1:(column(r(4))):(column(r(4)+1)):(column(r(4)+2)) w yerrorlines ls 21, \
         d index i u 1:(column(r(5))):(column(r(5)+1)):(column(r(5)+2)) w yerrorlines ls 22, \
         d index i u 1:(column(r(6))):(column(r(6)+1)):(column(r(6)+2)) w yerrorlines ls 23, \
         d index i u 1:(column(r(7))):(column(r(7)+1)):(column(r(7)+2)) w yerrorlines ls 24
    set title sprintf('server CPU per request, %s connections', word(conns, i+1))
    set ylabel 'server CPU µs / request (lower is better)'
    set key
    plot d index i u 1:(column(u(0))):(column(u(0)+1)):(column(u(0)+2)) w yerrorlines ls 1 t 'async-nostd, epoll', \
         d index i u 1:(column(u(1))):(column(u(1)+1)):(column(u(1)+2)) w yerrorlines ls 4 t 'async-nostd, ppoll', \
         d index i u 1:(column(u(2))):(column(u(2)+1)):(column(u(2)+2)) w yerrorlines ls 2 t 'async-nostd, io\_uring', \
         d index i u 1:(column(u(3))):(column(u(3)+1)):(column(u(3)+2)) w yerrorlines ls 13 t nginx, \
         d index i u 1:(column(u(4))):(column(u(4)+1)):(column(u(4)+2)) w yerrorlines ls 21 t 'h2o, static file', \
         d index i u 1:(column(u(5))):(column(u(5)+1)):(column(u(5)+2)) w yerrorlines ls 22 t 'h2o, mruby', \
         d index i u 1:(column(u(6))):(column(u(6)+1)):(column(u(6)+2)) w yerrorlines ls 23 t 'floor-epoll', \
         d index i u 1:(column(u(7))):(column(u(7)+1)):(column(u(7)+2)) w yerrorlines ls 24 t 'floor-io\_uring'
}
unset multiplot
