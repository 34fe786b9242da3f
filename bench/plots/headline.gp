# headline.gp: the headline figures as ratios to nginx (1 worker each, pinned), with the targets.
# headline.dat: label, ratio (ours / nginx), target ratio (NaN: none), bar colour
# (green: target met, red: missed, blue: no target; grey: a floor server of
# bench/floor/, its CPU/request over nginx's, the least any server could spend).
load gpdir.'/common.gp'
d = datadir.'/headline.dat'
set title sprintf("{/:Bold async-nostd as a ratio to %s} (1 worker each, pinned; req/s: higher is better, p99 and CPU/request: lower is better)\n{/*0.85 %s}", nginx, machine)
set style fill solid 0.75 border -1
set boxwidth 0.7
set yrange [0:*]
set offsets 0, 0, graph 0.22, 0
set ylabel 'ratio to nginx'
set xtics font ',10'
set bmargin 4
set key top right opaque
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#555555' dt 2 lw 1.5
# The value sits at the foot of its bar so that it never hides the target mark.
plot d u 0:2:4:xtic(1) w boxes lc rgb variable notitle, \
     d u 0:(0):(sprintf('%.2f', $2)) w labels offset 0,0.9 font ',11:Bold' notitle, \
     d u ($0-0.35):3:(0.7):(0) w vectors nohead lw 4 lc rgb '#000000' t 'target: CPU/request within 1.05x the epoll floor (bar green: met, red: missed, blue: no target; grey: floor server)'
