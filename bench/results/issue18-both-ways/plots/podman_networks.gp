set terminal pngcairo size 1000,520 font 'sans,10' noenhanced
set output '/tmp/b18/plots/podman_networks.png'
set title 'Podman networks, same containers: each figure over Podman''s CNI network (higher is better)'
set style data histogram
set style histogram cluster gap 1
set style fill solid border -1
set yrange [0:*]
set grid ytics
set key outside right
set xtics rotate by -30
plot '/tmp/b18/plots/podman_networks.dat' using 2:xtic(1) title col, '' using 3 title col, '' using 4 title col
