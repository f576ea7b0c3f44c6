set terminal pngcairo size 900,520 font 'sans,10'
set output 'bench/results/plots/tcp_throughput.png'
set title 'TCP throughput (iperf3, one stream)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'Gbit/s'
set logscale x
set xrange [0.5:20000]
set yrange [0:*]
set key outside right
set grid
plot 'bench/results/plots/tcp_throughput.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'B0', 'bench/results/plots/tcp_throughput.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'B1', 'bench/results/plots/tcp_throughput.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'F-tc', 'bench/results/plots/tcp_throughput.dat' index 3 using 1:2:3:4 with yerrorlines lw 2 title 'F-xdp'
