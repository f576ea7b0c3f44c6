set terminal pngcairo size 900,520 font 'sans,10'
set output 'bench/results/plots/latency_p50.png'
set title 'UDP request/response latency p50 (sockperf, one way)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'us'
set logscale x
set xrange [0.5:20000]
set yrange [0:*]
set key outside right
set grid
plot 'bench/results/plots/latency_p50.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'B0', 'bench/results/plots/latency_p50.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'B1', 'bench/results/plots/latency_p50.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'F-tc', 'bench/results/plots/latency_p50.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 title 'F-xdp'
