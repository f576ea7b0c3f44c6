set terminal pngcairo size 900,520 font 'sans,10'
set output 'bench/results/plots/flood_run_time.png'
set title 'uplink program: its own time per packet in the flood (BPF run statistics)'
set xlabel 'N (published ports and mark rules)'
set ylabel 'ns'
set logscale x
set xrange [0.5:20000]
set yrange [0:*]
set key outside right
set grid
plot 'bench/results/plots/flood_run_time.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'F-tc from_uplink', 'bench/results/plots/flood_run_time.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'F-xdp from_uplink', 'bench/results/plots/flood_run_time.dat' index 2 using 1:2:3:4 with yerrorlines lw 2 title 'F-xdp xdp_uplink (live frames)'
